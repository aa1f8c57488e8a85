"""f5quilt: a quilt-compatible patch-series manager for vendored trees."""
__version__ = "0.1.0"
