"""The experiments: one module each (an entry function that runs or reuses it, a records -> rows table, its
VERSION and EXPERIMENT name), each listed once in `registry`."""
