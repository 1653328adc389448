"""The experiments: one module each (a `run` entry, a tidy table, its VERSION), listed in `registry`."""
