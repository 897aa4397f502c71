"""LightningModules, one per training paradigm."""
