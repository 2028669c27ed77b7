"""Benchmarks of ccsync against the sandbox: `python -m bench` (or `make bench`)."""
