"""The terminal app's screens: overview, worker drill-down, operations, help."""
