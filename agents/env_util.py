"""Environment construction: an id, a ``gymnasium.Env`` or a vector env -> a same-step-autoreset vector env.

Same-step autoreset puts an episode's real last observation in
``infos["final_obs"]``, so truncated episodes bootstrap from it.
"""

from __future__ import annotations

import difflib

import gymnasium as gym

from zoo.core.checks import check_int, fail, is_int

__all__ = ["make_vec_env", "check_env", "check_env_id", "env_id"]


def check_env(env, allow_none=False):
    """A ``TypeError`` unless ``env`` is an id string, a ``gymnasium.Env`` or a vector env (or None when allowed)."""
    if (env is None and allow_none) or isinstance(env, (str, gym.Env, gym.vector.VectorEnv)):
        return env
    raise TypeError(
        f"invalid env={env!r} ({type(env).__name__}); expected a gymnasium id string, a gymnasium.Env "
        "or a gymnasium.vector.VectorEnv" + (" or None" if allow_none else "")
    )


def check_env_id(env_id: str):
    """Raise ``ValueError`` (with close matches) unless ``env_id`` is registered in gymnasium."""
    if env_id not in gym.registry:
        close = difflib.get_close_matches(env_id, list(gym.registry), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see gymnasium.registry"
        raise ValueError(f"unknown environment env={env_id!r}{hint}")


def make_vec_env(env, n_envs: int = 1, seed: int | None = None) -> gym.vector.VectorEnv:
    """A ``SyncVectorEnv`` with same-step autoreset from an id, an env or a vector env.

    ``env`` may be a registered id (``n_envs`` copies are made), a ``gymnasium.Env``
    (``n_envs`` must be 1) or a ``gymnasium.vector.VectorEnv`` created with
    ``autoreset_mode=gymnasium.vector.AutoresetMode.SAME_STEP`` (used as it is).
    """
    same_step = gym.vector.AutoresetMode.SAME_STEP
    check_env(env)
    if not is_int(n_envs) or n_envs < 1:
        fail("n_envs", n_envs, "a positive integer")
    check_int("seed", seed, allow_none=True)
    if isinstance(env, str):
        check_env_id(env)
        return gym.vector.SyncVectorEnv([lambda: gym.make(env)] * int(n_envs), autoreset_mode=same_step)
    if isinstance(env, gym.vector.VectorEnv):
        mode = env.metadata.get("autoreset_mode")
        if mode != same_step:
            raise ValueError(
                f"invalid env: a vector env with autoreset_mode={mode!r}; expected one created with "
                "autoreset_mode=gymnasium.vector.AutoresetMode.SAME_STEP (so that truncated episodes "
                "bootstrap from their final observation), or pass the env id and n_envs"
            )
        return env
    if n_envs != 1:  # a gymnasium.Env
        raise ValueError(
            f"invalid n_envs={n_envs} for a single env instance; expected 1, or pass the env id "
            "(or a gymnasium vector env) to run several copies"
        )
    return gym.vector.SyncVectorEnv([lambda: env], autoreset_mode=same_step)


def env_id(env) -> str | None:
    """The registered id of ``env`` (an id, an env or a ``SyncVectorEnv``), or ``None``."""
    if isinstance(env, str):
        return env
    spec = getattr(env, "spec", None)
    if spec is None and isinstance(env, gym.vector.SyncVectorEnv):
        spec = getattr(env.envs[0], "spec", None)
    return getattr(spec, "id", None)
