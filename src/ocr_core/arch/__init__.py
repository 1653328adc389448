"""Decoder architectures: parameter families, components (MLPs, heads), hooks, trainable sets."""
