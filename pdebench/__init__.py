"""pdebench: a benchmark harness for scientific machine learning on PDEs."""

from __future__ import annotations

import os

# DeepXDE picks its backend at first import; fix it before any zoo module can import it, and never
# depend on a user's ~/.deepxde file.
os.environ.setdefault("DDE_BACKEND", "pytorch")

__version__ = "0.1.0"
