"""Presentation: notebook helpers, book build, sweeps, charts, comparisons, summaries."""
