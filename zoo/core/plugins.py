"""Third-party model families and agents, from package entry points.

A distribution declares, in its ``pyproject.toml``::

    [project.entry-points."dlzoo.models"]
    my_family = "my_package.my_family"      # a module whose @register lines run on import

    [project.entry-points."dlzoo.agents"]
    my_agent = "my_package.my_agent"        # a module defining an agents.Agent subclass

dlzoo loads each group once, on the first registry access. A plugin that fails
to import is reported by name (a warning, and in :func:`failed_plugins`) and
never breaks ``import zoo`` or the built-in registry.
"""

from __future__ import annotations

import importlib.metadata
import warnings

__all__ = ["GROUPS", "load_plugins", "failed_plugins"]

GROUPS = ("dlzoo.models", "dlzoo.agents")

_loaded: dict[str, list[str]] = {}
_failed: dict[str, dict[str, str]] = {}


def load_plugins(group: str) -> list[str]:
    """Import every entry point of ``group`` once; return the names that loaded."""
    if group not in GROUPS:
        raise ValueError(f"invalid group={group!r}; expected one of {', '.join(map(repr, GROUPS))}")
    if group in _loaded:
        return list(_loaded[group])
    _loaded[group], _failed[group] = [], {}
    for point in importlib.metadata.entry_points(group=group):
        try:
            point.load()
        except Exception as err:  # a broken plugin must not break dlzoo
            _failed[group][point.name] = f"{type(err).__name__}: {err}"
            warnings.warn(
                f"dlzoo plugin {point.name!r} ({point.value}, group {group}) failed to load and is "
                f"skipped: {type(err).__name__}: {err}",
                RuntimeWarning,
                stacklevel=2,
            )
        else:
            _loaded[group].append(point.name)
    return list(_loaded[group])


def failed_plugins(group: str | None = None) -> dict:
    """Plugins that failed to load: ``{name: error}`` for ``group``, or ``{group: {...}}``."""
    if group is not None:
        return dict(_failed.get(group, {}))
    return {g: dict(f) for g, f in _failed.items()}


def _reset():
    """Forget what was loaded (tests install a plugin, then load again)."""
    _loaded.clear()
    _failed.clear()
