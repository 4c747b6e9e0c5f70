"""Benchmarks of longtail; each script writes a JSON result into bench/results/."""
