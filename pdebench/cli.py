"""Command line: ``pdebench [key=value ...]`` runs; ``pdebench list``, ``show``, ``leaderboard``,
``cache``."""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from pdebench.config import (
    CONFIG_NAME,
    CONFIG_PATH,
    RenamedError,
    check_renamed,
    register_resolvers,
)

KINDS = ("models", "datasets", "systems", "metrics", "equations")
_FAILED_JOBS: list[str] = []


def cmd_list(args: Sequence[str]) -> int:
    """Print what is registered, one line each with a short description."""
    from pdebench.registry import FAILURES, REGISTRIES, load_plugins

    load_plugins()
    kinds = list(args) or list(KINDS)
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        print(f"pdebench list: unknown kind {unknown[0]!r}; valid: {', '.join(KINDS)}",
              file=sys.stderr)
        return 2
    for kind in kinds:
        entries = REGISTRIES[kind].entries()
        print(f"{kind} ({len(entries)}):")
        width = max((len(e.name) for e in entries), default=0)
        suite = None
        for e in _by_suite(entries) if kind == "datasets" else entries:
            here = _suite(e)
            if kind == "datasets" and here != suite:
                suite = here
                print(f" {suite}:")
            origin = "" if e.source.startswith("builtin") else f"  [{e.source}]"
            print(f"  {e.name.ljust(width)}  {e.description}{origin}")
            if kind == "equations":
                print(f"  {''.ljust(width)}  physics metrics: {', '.join(e.target.metric_names())}")
        if kind == "metrics":
            print("  (physics metrics come with a dataset's equation: `pdebench list equations`)")
        print()
    if FAILURES:
        print("plugins that failed to load:")
        for f in FAILURES:
            print(f"  {f.name} ({f.value}): {f.error}")
    if kinds == list(KINDS):
        print("Use them as: python -m pdebench model=<model> data=<dataset> system=<system>")
    return 0


def _suite(entry) -> str:
    """The suite a dataset comes from (its package under pdebench.datasets), or its plugin."""
    module = getattr(entry.target, "__module__", "") or ""
    parts = module.split(".")
    if parts[:2] == ["pdebench", "datasets"] and len(parts) > 2:
        return parts[2]
    return f"plugin {entry.source}"


def _by_suite(entries: list) -> list:
    """Datasets grouped by suite (suites in the order they registered), by name within one."""
    from pdebench.registry import DATASETS

    order: dict[str, int] = {}
    for e in DATASETS.in_registration_order():
        order.setdefault(_suite(e), len(order))
    return sorted(entries, key=lambda e: (order.get(_suite(e), len(order)), e.name))


def cmd_show(args: Sequence[str]) -> int:
    """``pdebench show <kind> <name>``: the full description (a dataset's card)."""
    from pdebench.registry import REGISTRIES, UnknownNameError

    if len(args) != 2 or args[0] not in KINDS:
        print(f"usage: pdebench show {{{','.join(KINDS)}}} NAME", file=sys.stderr)
        return 2
    try:
        entry = REGISTRIES[args[0]].get(args[1])
    except UnknownNameError as exc:
        print(f"pdebench: {exc}", file=sys.stderr)
        return 2
    doc = (getattr(entry.target, "__doc__", None) or entry.description).strip()
    module_doc = sys.modules[entry.target.__module__].__doc__ or ""
    print(f"{entry.kind} {entry.name} ({entry.target.__module__}.{entry.target.__qualname__})\n")
    print(module_doc.strip(), "\n", sep="") if module_doc.strip() else None
    print(doc)
    return 0


def cmd_cache(args: Sequence[str]) -> int:
    """``pdebench cache [--dir DIR] [list | clear NAME ... | clear --all]``: what the data cache
    holds (generated datasets, converted files) and deleting parts of it."""
    import argparse
    import shutil

    from pdebench.data.cache import cache_groups, default_data_dir, disk_size, human_size

    parser = argparse.ArgumentParser(prog="pdebench cache", description=cmd_cache.__doc__)
    parser.add_argument("--dir", type=Path, default=None,
                        help="the data folder (default: $PDEBENCH_DATA or the user cache folder, "
                             "as paths.data_dir)")
    parser.add_argument("action", nargs="?", choices=("list", "clear"), default="list")
    parser.add_argument("names", nargs="*", help="folders to clear (dataset names, "
                                                 "cylinder_flow, converted)")
    parser.add_argument("--all", action="store_true", help="with clear: everything")
    opts = parser.parse_args(list(args))
    root = (opts.dir or default_data_dir()).expanduser()
    groups = cache_groups(root)
    if opts.action == "list":
        if not groups:
            print(f"{root}: no cached data")
            return 0
        total = 0
        for name, entries in groups.items():
            sizes = [disk_size(p) for p in entries]
            total += sum(sizes)
            print(f"{name}: {len(entries)} entr{'y' if len(entries) == 1 else 'ies'}, "
                  f"{human_size(sum(sizes))}")
            for p, size in zip(entries, sizes, strict=True):
                print(f"  {human_size(size):>10s}  {p.name}")
        print(f"total {human_size(total)} in {root}")
        return 0
    if opts.all == bool(opts.names):
        print("pdebench cache clear: name the folders to delete, or pass --all; the cache holds: "
              f"{', '.join(groups) or 'nothing'}", file=sys.stderr)
        return 2
    names = list(groups) if opts.all else opts.names
    unknown = [n for n in names if n not in groups]
    if unknown:
        print(f"pdebench cache clear: {unknown[0]!r} is not in {root}; it holds: "
              f"{', '.join(groups) or 'nothing'}", file=sys.stderr)
        return 2
    for name in names:
        size = sum(disk_size(p) for p in groups[name])
        shutil.rmtree(root / name)
        print(f"removed {root / name} ({human_size(size)})")
    return 0


def cmd_leaderboard(args: Sequence[str]) -> int:
    from pdebench.leaderboard import main as leaderboard_main

    return leaderboard_main(list(args), prog="pdebench leaderboard")


def _task(cfg) -> None:
    """The Hydra task: run one configuration and print its summary."""
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    from pdebench.config import apply_tiny
    from pdebench.run import is_rank_zero, run, summary_table

    multirun = HydraConfig.get().mode == RunMode.MULTIRUN
    try:
        result = run(apply_tiny(cfg, HydraConfig.get().overrides.task))
    except BaseException as exc:  # the record is written; report briefly
        err = exc
        if type(exc).__name__ == "InstantiationException" and exc.__cause__ is not None:
            err = exc.__cause__
        label = f"job {HydraConfig.get().job.num}: " if multirun else ""
        if isinstance(exc, KeyboardInterrupt):
            msg = (f"interrupted; the run dir keeps its last checkpoint. Resume with "
                   f"hydra.run.dir={cfg.paths.output_dir}")
        else:
            msg = f"{type(err).__name__}: {err}"
        print(f"\npdebench: {label}run failed: {msg}\n  record: "
              f"{cfg.paths.output_dir}/result.json", file=sys.stderr)
        if os.environ.get("PDEBENCH_DEBUG"):
            traceback.print_exc()
        else:
            print("  (set PDEBENCH_DEBUG=1 for the traceback)", file=sys.stderr)
        if multirun and not isinstance(exc, KeyboardInterrupt):
            _FAILED_JOBS.append(str(cfg.paths.output_dir))
            return
        raise SystemExit(130 if isinstance(exc, KeyboardInterrupt) else 1) from None
    if is_rank_zero():
        print("\n" + summary_table(result.record))
        print(f"\nresult: {result.path}")


def _quiet_lightning() -> None:
    """Drop Lightning's advertising and a deprecation notice it raises against itself."""
    import logging
    import warnings

    logging.getLogger("lightning.pytorch.utilities.rank_zero").addFilter(
        lambda record: "litlogger" not in record.getMessage())
    warnings.filterwarnings("ignore", message=r".*LeafSpec.*is deprecated")


def cmd_run(args: Sequence[str], prog: str) -> int:
    import hydra

    from pdebench.registry import load_plugins

    register_resolvers()
    load_plugins()
    try:
        check_renamed(args)
    except RenamedError as exc:
        print(f"pdebench: {exc}", file=sys.stderr)
        return 1
    _quiet_lightning()
    main = hydra.main(config_path=CONFIG_PATH, config_name=CONFIG_NAME, version_base="1.3")(_task)
    saved = sys.argv
    sys.argv = [prog, *args]
    try:
        main()
    finally:
        sys.argv = saved
    if _FAILED_JOBS:
        print(f"pdebench: {len(_FAILED_JOBS)} job(s) of the sweep failed: "
              f"{', '.join(_FAILED_JOBS)}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None, prog: str = "pdebench") -> int:
    from pdebench.registry import PluginLoadError

    try:
        return _dispatch(list(sys.argv[1:] if argv is None else argv), prog)
    except PluginLoadError as exc:
        print(f"pdebench: {exc}", file=sys.stderr)
        return 1


def _dispatch(argv: list[str], prog: str) -> int:
    if argv and argv[0] == "list":
        return cmd_list(argv[1:])
    if argv and argv[0] == "show":
        return cmd_show(argv[1:])
    if argv and argv[0] == "leaderboard":
        return cmd_leaderboard(argv[1:])
    if argv and argv[0] == "cache":
        return cmd_cache(argv[1:])
    if argv and argv[0] == "run":
        argv = argv[1:]
    return cmd_run(argv, prog)
