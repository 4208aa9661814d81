"""Benchmarks: scripts that print their figures (``make bench``). Not part of the test suite."""
