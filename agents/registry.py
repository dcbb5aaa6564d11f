"""The agent registry: ``register_agent``, ``list_agents``, ``make``, and where agents come from.

Every module of the ``agents`` package is imported on the first registry access,
so an algorithm file that decorates its class with ``@register_agent`` is found
without being listed anywhere (as ``zoo.models`` finds its family files).
Third-party packages add agents through the ``dlzoo.agents`` entry-point group,
loaded at the same moment by ``zoo.core.plugins``; a plugin that fails to import
is reported by name and skipped.
"""

from __future__ import annotations

import difflib
import importlib
import pkgutil

from zoo.core.checks import check_str, fail

__all__ = ["register_agent", "list_agents", "make", "agent_class", "discover", "exported", "exported_names"]

PLUGIN_GROUP = "dlzoo.agents"
_AGENTS: dict[str, type] = {}
_discovered = False


def register_agent(cls):
    """Class decorator: make ``cls`` reachable by ``agents.make(cls.name, ...)``, ``agents.load`` and
    as ``agents.<ClassName>`` / ``agents.<ConfigName>``."""
    if not isinstance(cls, type) or not isinstance(getattr(cls, "name", None), str):
        fail("cls", cls, "an agents.Agent subclass with a name", "register_agent", error=TypeError)
    _AGENTS[cls.name] = cls
    return cls


def discover():
    """Import every module of the ``agents`` package once (their ``@register_agent`` lines run)."""
    global _discovered
    if not _discovered:
        _discovered = True
        import agents

        for module in pkgutil.iter_modules(agents.__path__):
            if not module.name.startswith("_"):
                importlib.import_module(f"agents.{module.name}")


def _ensure_loaded():
    """The built-in agents, then the plugins (``load_plugins`` imports each entry point once)."""
    discover()
    from zoo.core.plugins import load_plugins

    load_plugins(PLUGIN_GROUP)


def list_agents() -> list[str]:
    """Names accepted by ``agents.make``, sorted."""
    _ensure_loaded()
    return sorted(_AGENTS)


def agent_class(name: str) -> type:
    """The registered class of ``name`` (case-insensitive); unknown names fail with close matches."""
    _ensure_loaded()
    if not isinstance(name, str):
        check_str("name", name, "agents.make", accepted=f"an agent name, one of {list_agents()}")
    if name not in _AGENTS:
        key = {k.lower(): k for k in _AGENTS}.get(str(name).lower())
        if key is None:
            close = difflib.get_close_matches(str(name).upper(), list(_AGENTS), n=3, cutoff=0.4)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            raise ValueError(f"unknown agent name={name!r}{hint}; expected one of {list_agents()}")
        name = key
    return _AGENTS[name]


def make(name: str, env, **kwargs):
    """``agents.make("ppo", "CartPole-v1", seed=0, n_steps=64)``: an agent by (case-insensitive) name."""
    return agent_class(name)(env, **kwargs)


def exported() -> dict:
    """``{class name: class, config name: config}`` of every registered agent (``agents.PPO``, ``agents.PPOConfig``)."""
    _ensure_loaded()
    names = {}
    for cls in _AGENTS.values():
        names[cls.__name__] = cls
        names[cls.Config.__name__] = cls.Config
    return names


def exported_names() -> list[str]:
    """The names of ``exported()``, sorted (built-in agents only: no plugin is loaded for this)."""
    discover()
    names = set()
    for cls in _AGENTS.values():
        names.update((cls.__name__, cls.Config.__name__))
    return sorted(names)
