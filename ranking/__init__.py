"""Scorers (every baseline and model behind one contract), the intent encoder and the hybrid ranker."""
