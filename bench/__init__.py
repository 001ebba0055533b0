"""Benchmarks of the embedded ImageServer against TiTiler and bare rasterio (not tests; see README.md)."""
