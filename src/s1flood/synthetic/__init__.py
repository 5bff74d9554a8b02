"""Synthetic Sentinel-1 data with known water truth, for the demo, tests and benchmarks."""
