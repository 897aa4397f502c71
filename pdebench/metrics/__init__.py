"""Data-oriented and physics-oriented metrics (torchmetrics, DDP-safe)."""
