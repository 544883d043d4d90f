"""Benchmark of extraction, transform and orchestration: `make bench` (see README.md)."""
