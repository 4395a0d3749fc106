"""KAM's benchmarks. Each prints a table with the ratio to its baseline (see bench/README.md)."""
