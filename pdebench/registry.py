"""Name -> builder registries for models, datasets, metrics and systems, and plugin loading.

Everything the harness can build is registered here under an explicit lower-snake-case name that
equals its config file name (``model/fno.yaml`` <-> ``"fno"``). Duplicates are refused, unknown
names fail with the list of known ones, and a renamed entry fails naming its new name.

This module imports nothing from the rest of the package: the core's own equations, metrics and
systems register through the same entry points as the zoo and any plugin.

Plugins
-------
A package adds entries by declaring an entry point in the group ``pdebench.plugins`` whose object
is a callable ``register(api: PluginAPI) -> None``. The built-in equations, metrics, systems,
models and datasets use the same mechanism (see ``pyproject.toml``). A plugin that fails to load is reported by name with its error and the
rest keeps working; set ``PDEBENCH_STRICT_PLUGINS=1`` to make such a failure fatal.

A plugin entry may carry a ``config`` mapping: it becomes the Hydra config node
``<kind>/<name>`` (through Hydra's ``ConfigStore``), so ``model=<name>`` works on the command
line without the plugin shipping YAML files (``data=<name>`` for a dataset).
"""

from __future__ import annotations

import os
import re
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

ENTRY_POINT_GROUP = "pdebench.plugins"
#: registry kind -> Hydra config group of its nodes
CONFIG_GROUPS = {"model": "model", "dataset": "data", "system": "system"}
STRICT_ENV = "PDEBENCH_STRICT_PLUGINS"
_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*(/[a-z0-9_]+)*$")


class RegistryError(ValueError):
    """A name is unknown, duplicated or malformed."""


class PluginLoadError(RuntimeError):
    """A plugin failed to load while ``PDEBENCH_STRICT_PLUGINS`` is set."""


class UnknownNameError(RegistryError, KeyError):
    """A requested name is not registered. The message lists the known names."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


@dataclass(frozen=True)
class Entry:
    """One registered thing.

    Attributes
    ----------
    kind : str
        ``"model"``, ``"dataset"``, ``"metric"``, ``"system"`` or ``"equation"``.
    name : str
        Registry name, equal to the config name.
    target : Callable
        The builder (a class or function).
    description : str
        One line shown by ``pdebench list``.
    source : str
        Which plugin registered it (``"builtin_models"``, a distribution's entry point name, ...).
    config : Mapping | None
        Default config node for ``<kind>/<name>`` when no YAML file provides one.
    extra : Mapping
        Kind-specific facts (e.g. a model's ``supports`` check, a metric's ``higher_is_better``).
    """

    kind: str
    name: str
    target: Callable[..., Any]
    description: str = ""
    source: str = "builtin"
    config: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


class Registry:
    """A name -> :class:`Entry` table for one kind of thing."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, Entry] = {}
        self._renamed: dict[str, str] = {}

    def rename(self, old: str, new: str) -> None:
        """Make ``old`` (a name earlier releases used) fail with a message naming ``new``."""
        if old in self._entries:
            raise RegistryError(f"{self.kind} {old!r} is registered; it cannot also be a renamed "
                                "name")
        self._renamed[old] = new

    def add(self, entry: Entry) -> Entry:
        if not _NAME_RE.match(entry.name):
            raise RegistryError(
                f"invalid {self.kind} name {entry.name!r}: use lower snake case "
                "(letters, digits, '_', optionally '/'-separated)"
            )
        if entry.name in self._entries:
            old = self._entries[entry.name]
            raise RegistryError(
                f"{self.kind} {entry.name!r} is already registered (by {old.source}); "
                f"{entry.source} tried to register it again. Pick another name."
            )
        self._entries[entry.name] = entry
        return entry

    def get(self, name: str) -> Entry:
        load_plugins()
        try:
            return self._entries[name]
        except KeyError:
            raise UnknownNameError(self.unknown_message(name)) from None

    def renamed(self, name: str) -> str | None:
        """The current name of a renamed entry, else ``None``."""
        load_plugins()
        return self._renamed.get(name)

    def unknown_message(self, name: str) -> str:
        """Why ``name`` cannot be used: renamed (naming the new name) or unknown (listing the
        known names)."""
        load_plugins()
        if name in self._renamed:
            new = self._renamed[name]
            return (f"{self.kind} {name!r} was renamed to {new!r} (the publication's own name); "
                    f"use {new!r}")
        known = ", ".join(sorted(self._entries)) or "(none)"
        return f"unknown {self.kind} {name!r}. Known {self.kind}s: {known}"

    def names(self) -> list[str]:
        load_plugins()
        return sorted(self._entries)

    def entries(self) -> list[Entry]:
        load_plugins()
        return [self._entries[n] for n in sorted(self._entries)]

    def in_registration_order(self) -> list[Entry]:
        """Entries in the order they were registered (built-ins first, in their own order)."""
        load_plugins()
        return list(self._entries.values())

    def __contains__(self, name: object) -> bool:
        load_plugins()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def _remove(self, name: str) -> None:  # for tests that register throw-away entries
        self._entries.pop(name, None)


MODELS = Registry("model")
DATASETS = Registry("dataset")
METRICS = Registry("metric")
SYSTEMS = Registry("system")
EQUATIONS = Registry("equation")
REGISTRIES: dict[str, Registry] = {
    "models": MODELS,
    "datasets": DATASETS,
    "systems": SYSTEMS,
    "metrics": METRICS,
    "equations": EQUATIONS,
}


class PluginAPI:
    """What a plugin's ``register(api)`` receives. Each method refuses duplicates."""

    def __init__(self, source: str) -> None:
        self.source = source

    def _add(self, reg: Registry, name: str, target: Callable[..., Any], description: str,
             config: Mapping[str, Any] | None, extra: Mapping[str, Any]) -> Entry:
        entry = reg.add(Entry(reg.kind, name, target, description, self.source, config, extra))
        if config is not None:
            _store_config(reg.kind, name, config)
        return entry

    def register_model(self, name: str, target: Callable[..., Any], description: str = "", *,
                       config: Mapping[str, Any] | None = None, **extra: Any) -> Entry:
        """Register a model builder ``target(meta=DatasetMeta, **architecture) -> nn.Module``."""
        return self._add(MODELS, name, target, description, config, extra)

    def register_dataset(self, name: str, target: Callable[..., Any], description: str = "", *,
                         config: Mapping[str, Any] | None = None, **extra: Any) -> Entry:
        """Register a dataset source ``target(**cfg) -> DataSource``."""
        return self._add(DATASETS, name, target, description, config, extra)

    def register_metric(self, name: str, target: Callable[..., Any], description: str = "", *,
                        higher_is_better: bool = False, **extra: Any) -> Entry:
        """Register a metric factory ``target(meta: DatasetMeta) -> torchmetrics.Metric``."""
        return self._add(METRICS, name, target, description, None,
                         {"higher_is_better": higher_is_better, **extra})

    def register_system(self, name: str, target: Callable[..., Any], description: str = "", *,
                        config: Mapping[str, Any] | None = None, **extra: Any) -> Entry:
        """Register a training paradigm: a subclass of :class:`pdebench.systems.base.System`."""
        return self._add(SYSTEMS, name, target, description, config, extra)

    def register_equation(self, name: str, equation: Any, description: str = "") -> Entry:
        """Register an equation (a :class:`pdebench.physics.equations.Equation`) under the name
        ``DatasetMeta.pde`` carries. Its physics metrics then apply to every dataset naming it."""
        return self._add(EQUATIONS, name, equation, description or getattr(equation,
                                                                          "description", ""),
                         None, {})

    def rename_dataset(self, old: str, new: str) -> None:
        """``data=<old>`` (a name earlier releases used) fails with a message naming ``new``."""
        DATASETS.rename(old, new)


def _store_config(kind: str, name: str, config: Mapping[str, Any]) -> None:
    from hydra.core.config_store import ConfigStore

    node = dict(config)
    node.setdefault("name", name)
    group = CONFIG_GROUPS[kind]
    ConfigStore.instance().store(group=group, name=name, node=node, provider="pdebench-plugin")


@dataclass
class PluginFailure:
    name: str
    value: str
    error: str


_LOADED = False
_LOADING = False
FAILURES: list[PluginFailure] = []


def load_plugins(*, strict: bool | None = None) -> list[PluginFailure]:
    """Load every ``pdebench.plugins`` entry point once; return the failures.

    Parameters
    ----------
    strict : bool, optional
        Raise on the first failing plugin. Defaults to the ``PDEBENCH_STRICT_PLUGINS`` switch.
    """
    global _LOADED, _LOADING
    if _LOADED or _LOADING:
        return FAILURES
    _LOADING = True
    if strict is None:
        strict = os.environ.get(STRICT_ENV, "").lower() in {"1", "true", "yes"}
    try:
        # built-ins first (equations before the metrics and datasets that name them), so a
        # plugin reusing a built-in name is the one refused
        eps = sorted(entry_points(group=ENTRY_POINT_GROUP),
                     key=lambda ep: (not ep.name.startswith("builtin_"), ep.name))
        seen: set[str] = set()
        for ep in eps:
            if ep.value in seen:  # the same distribution found twice on sys.path
                continue
            seen.add(ep.value)
            try:
                ep.load()(PluginAPI(ep.name))
            except Exception as exc:  # a broken plugin must not take the host down
                msg = f"{type(exc).__name__}: {exc}"
                FAILURES.append(PluginFailure(ep.name, ep.value, msg))
                if strict:
                    raise PluginLoadError(
                        f"pdebench plugin {ep.name!r} ({ep.value}) failed to load: {msg}"
                    ) from exc
                print(
                    f"pdebench: plugin {ep.name!r} ({ep.value}) failed to load and is skipped: "
                    f"{msg}\n  (set {STRICT_ENV}=1 to make this fatal; details with "
                    "PDEBENCH_DEBUG=1)",
                    file=sys.stderr,
                )
                if os.environ.get("PDEBENCH_DEBUG"):
                    traceback.print_exc()
        _LOADED = True
    finally:
        _LOADING = False
    return FAILURES


def reset_for_tests() -> None:
    """Forget every entry and reload plugins on next use (tests only)."""
    global _LOADED
    for reg in REGISTRIES.values():
        reg._entries.clear()
        reg._renamed.clear()
    FAILURES.clear()
    _LOADED = False
