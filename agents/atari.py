"""Atari ids: gymnasium's standard pipeline, as stable-baselines3's ``make_atari_env`` and rl-zoo's ``atari``.

An ALE id (``"ALE/Pong-v5"``, or a ``...NoFrameskip-v4`` id) given to ``agents.make``,
``agents.evaluate``, ``agents.load`` or ``python -m agents train`` is made with
``gym.make(id, frameskip=1)``, then ``AtariPreprocessing`` (up to 30 no-op starts, frame skip 4
with max-pooling of the last two frames, 84x84 grayscale uint8) and ``FrameStackObservation(4)``:
``(4, 84, 84)`` uint8 observations, which ``policy="cnn"`` (the default for these ids) scales and
moves into the channels inside the model. ale-py registers the ids and ships the ROMs.
Each algorithm's ``RL_ZOO["atari"]`` holds rl-zoo's Atari settings, used for every ALE id.
"""

from __future__ import annotations

import gymnasium as gym

__all__ = ["is_atari_id", "default_policy", "register_atari", "make_atari", "SCREEN_SIZE", "FRAME_STACK"]

SCREEN_SIZE, FRAME_STACK = 84, 4


def is_atari_id(env) -> bool:
    """Whether ``env`` is an ALE id: the ``ALE/`` namespace or a ``NoFrameskip`` id."""
    return isinstance(env, str) and (env.startswith("ALE/") or "NoFrameskip" in env)


def default_policy(env) -> str:
    """The policy an agent gets when none is named: ``"cnn"`` for an ALE id, else ``"mlp"``."""
    return "cnn" if is_atari_id(env) else "mlp"


def register_atari():
    """Register ale-py's ids in gymnasium (once); ``ValueError`` naming the extra when ale-py is missing."""
    try:
        import ale_py
    except ImportError as err:
        raise ValueError("Atari ids need ale-py: pip install ale-py (it ships the ROMs)") from err
    ale_py.ALEInterface.setLoggerMode(ale_py.LoggerMode.Error)  # no banner on every env made
    if "ALE/Pong-v5" not in gym.registry:
        gym.register_envs(ale_py)


def make_atari(env_id: str, render_mode: str | None = None, screen_size: int = SCREEN_SIZE,
               frame_stack: int = FRAME_STACK, **kwargs) -> gym.Env:
    """One Atari env through the standard pipeline (module level, so a subprocess can rebuild it)."""
    register_atari()
    env = gym.make(env_id, frameskip=1, render_mode=render_mode, **kwargs)
    env = gym.wrappers.AtariPreprocessing(env, screen_size=screen_size)
    return gym.wrappers.FrameStackObservation(env, frame_stack)
