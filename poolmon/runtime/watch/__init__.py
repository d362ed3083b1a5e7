"""`poolmon watch`: a headless watcher exporting pools' figures to Prometheus (docs/FLEET.md)."""
