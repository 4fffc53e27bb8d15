"""Benchmarks (B0 floors, B1 ingestion, B2 reads, B3 peers). Run `make bench-smoke` or `make bench`."""
