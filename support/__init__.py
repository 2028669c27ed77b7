"""Plain helpers the tests and the benchmarks share: the sandbox and the whole product run as
processes, a person's side of the two consents, HTML forms read like a browser. Imports
neither tests nor bench (tests/test_layout.py)."""
