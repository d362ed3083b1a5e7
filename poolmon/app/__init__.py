"""The terminal app: `PoolmonApp`, its launchers (`poolmon attach`, `poolmon demo`) and styles."""
