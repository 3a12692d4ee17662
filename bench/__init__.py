"""Benchmarks (not run in CI): `python -m bench.ack`, `python -m bench.e2e`.
Their figures and the commands that measured them are in docs/PERFORMANCE.md."""
