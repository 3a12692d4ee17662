"""Peers the benchmarks compare the service with."""
