"""Equation residuals written once against a derivative provider."""
