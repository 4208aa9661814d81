"""Confidence: exact trust indicators per materialization, history-aware volume and drift signals,
an explainable trust score, and sampled profiling reports off the critical path."""
