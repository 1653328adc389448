"""Tools around the experiments: end-to-end check, tolerance-mode chapter check, benchmarks, key lock."""
