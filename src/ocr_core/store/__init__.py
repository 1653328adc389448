"""Storage: atomic writes, result folders, keys and fault points (lowest layer above numerics)."""
