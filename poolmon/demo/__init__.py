"""The demo workload: a real pool under a synthetic, mixed, misbehaving load."""
