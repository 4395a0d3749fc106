"""Benchmarks of the segmentation app: figures (this app), lifetime value and forecasts."""
