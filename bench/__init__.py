"""Benchmarks of spasm-monitor against peer detectors (never imported by the product)."""
