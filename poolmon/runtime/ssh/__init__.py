"""Pools on other machines, reached through the system's ssh (see docs/FLEET.md)."""
