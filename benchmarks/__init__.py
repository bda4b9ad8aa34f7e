"""Benchmarks, side by side with the peer tool in one run; `make bench` prints a table of ratios."""
