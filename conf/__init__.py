"""Hydra config tree of pdebench (load with ``pkg://pdebench.conf``)."""
