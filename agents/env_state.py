"""The state of gymnasium envs as plain data (JSON and NumPy arrays), for checkpoints: no pickle.

A checkpoint must hold each sub-env's physics and random generator, and nothing the
library loads may be unpickled. So a sub-env's state is read as the instance attributes
of each of its layers (the wrappers down to the env): numbers, strings, None, NumPy arrays
and scalars, tuples, lists and dicts of those, and ``numpy.random.Generator`` objects (their
bit-generator state). Spaces, the spec and the wrapped env are structure that the env's
constructor rebuilds. Anything else (a Box2D world, an emulator, a lock) cannot be read
as data: ``capture`` raises ``Unsupported`` naming the attribute.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

__all__ = ["Unsupported", "capture", "restore"]

#: Attribute values the constructor rebuilds (``env``: the wrapped env, a layer of its own)
_STRUCTURE = (gym.Space, gym.envs.registration.EnvSpec, gym.Env)


class Unsupported(ValueError):
    """An env attribute that is not plain data (``attribute`` names it as ``Layer.name``)."""

    def __init__(self, attribute, value):
        self.attribute, self.kind = attribute, type(value).__name__
        super().__init__(f"{attribute} ({self.kind}) is not plain data")


def _layers(env):
    """The wrappers of ``env``, outermost first, then the env itself."""
    while isinstance(env, gym.Wrapper):
        yield env
        env = env.env
    yield env


def _encode(value, key, arrays, where):
    if isinstance(value, _STRUCTURE):
        return None
    if value is None or isinstance(value, (bool, int, float, str)):
        return {"value": value}
    if isinstance(value, np.random.Generator):
        return {"generator": value.bit_generator.state}
    if isinstance(value, (np.ndarray, np.generic)) and np.asarray(value).dtype.kind not in "OV":
        arrays[key] = np.asarray(value)
        return {"array": key, "scalar": isinstance(value, np.generic)}
    if isinstance(value, (tuple, list)):
        items = [_encode(v, f"{key}/{i}", arrays, where) for i, v in enumerate(value)]
        if any(item is None for item in items):
            raise Unsupported(where, value)
        return {type(value).__name__: items}
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        items = {k: _encode(v, f"{key}/{k}", arrays, where) for k, v in value.items()}
        if any(item is None for item in items.values()):
            raise Unsupported(where, value)
        return {"dict": items}
    raise Unsupported(where, value)


def _decode(item, arrays):
    if "value" in item:
        return item["value"]
    if "generator" in item:
        state = item["generator"]
        generator = np.random.Generator(getattr(np.random, state["bit_generator"])())
        generator.bit_generator.state = state
        return generator
    if "array" in item:
        array = np.array(arrays[item["array"]])
        return array[()] if item["scalar"] else array
    if "dict" in item:
        return {k: _decode(v, arrays) for k, v in item["dict"].items()}
    kind = tuple if "tuple" in item else list
    return kind(_decode(v, arrays) for v in item[kind.__name__])


def capture(envs, prefix="env"):
    """``(description, arrays)`` of the sub-envs: per env, per layer, its type and attributes."""
    description, arrays = [], {}
    for i, env in enumerate(envs):
        layers = []
        for j, layer in enumerate(_layers(env)):
            attrs = {}
            for name, value in vars(layer).items():
                item = _encode(value, f"{prefix}/{i}/{j}/{name}", arrays, f"{type(layer).__name__}.{name}")
                if item is not None:
                    attrs[name] = item
            layers.append({"type": type(layer).__name__, "attrs": attrs})
        description.append(layers)
    return description, arrays


def restore(envs, description, arrays):
    """Check ``description`` against ``envs`` (same layers and attributes); return the function that sets it."""
    if not isinstance(description, list):
        raise TypeError(f"envs' state is a {type(description).__name__}; expected a list")
    if len(description) != len(envs):
        raise ValueError(f"{len(description)} envs saved; {len(envs)} here")
    updates = []
    for env, saved in zip(envs, description):
        layers = list(_layers(env))
        types = [type(layer).__name__ for layer in layers]
        if [layer["type"] for layer in saved] != types:
            raise ValueError(f"env layers {[layer['type'] for layer in saved]} saved; {types} here")
        for layer, entry in zip(layers, saved):
            updates += [(layer, name, _decode(item, arrays)) for name, item in entry["attrs"].items()]

    def commit():
        for layer, name, value in updates:
            setattr(layer, name, value)

    return commit
