"""Models: presets, tiny random models, GGUF weights, loading, placement and memory plans."""
