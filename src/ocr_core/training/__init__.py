"""Finetuning: the train step, deltas, ranks and losses, and the delta cache."""
