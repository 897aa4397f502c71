"""``python -m pdebench.leaderboard``: see :func:`pdebench.leaderboard.main`."""

from pdebench.leaderboard import main

if __name__ == "__main__":
    raise SystemExit(main())
