"""Extractive scores: informative, upstream and downstream, per component and position."""
