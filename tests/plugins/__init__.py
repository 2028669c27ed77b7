"""The tests' shared fixtures and helpers, as pytest plugins (registered by tests/conftest.py).

A test folder never imports another: what several folders use lives here, and a folder's
own conftest.py holds only what its tests alone use.
"""
