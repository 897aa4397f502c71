"""Numerics the generators share: finite-volume assembly, parameter validation, the self-check
record. Pure numerics: nothing here imports the harness."""
