"""``python -m pdebench``: compose the config with Hydra and call :func:`pdebench.run.run`.

``python -m pdebench list [models|datasets|systems|metrics]`` and
``python -m pdebench leaderboard PATH...`` are dispatched to :mod:`pdebench.cli` before Hydra.
"""

from __future__ import annotations

import sys


def main() -> int:
    from pdebench.cli import main as cli_main

    return cli_main(sys.argv[1:], prog="python -m pdebench")


if __name__ == "__main__":
    raise SystemExit(main())
