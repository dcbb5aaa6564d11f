"""Environment construction: an id, a ``gymnasium.Env`` or a vector env -> a same-step-autoreset vector env.

Same-step autoreset puts an episode's real last observation in
``infos["final_obs"]``, so truncated episodes bootstrap from it.

``vec_env="async"`` runs the copies in subprocesses (``gymnasium.vector.AsyncVectorEnv``)
started with :data:`START_METHOD`: ``"forkserver"`` (``"spawn"`` where there is none),
never ``"fork"``. TensorFlow runs threads in the parent (its thread pools, once an
op has run), and a child forked from a multi-threaded process may deadlock on a
lock one of those threads held; forkserver children are forked from a small
single-threaded server instead, as stable-baselines3's ``SubprocVecEnv`` does.
The price of not forking: what the children run must be picklable (an id
travels as its ``EnvSpec``, an env instance as a cloudpickled copy), and each
child imports the main module, so a script must guard its work with
``if __name__ == "__main__":``.
"""

from __future__ import annotations

import difflib
import functools
import multiprocessing
import weakref

import cloudpickle
import gymnasium as gym

from agents.atari import is_atari_id, make_atari, register_atari
from zoo.core.checks import check_choice, check_int, fail, is_int

__all__ = ["make_env", "make_vec_env", "check_env_type", "check_env_id", "env_id", "vec_env_kind", "built_for", "close_with",
           "VEC_ENVS", "START_METHOD"]

VEC_ENVS = ("sync", "async")
"""The accepted ``vec_env=`` values: ``SyncVectorEnv`` (one process) or ``AsyncVectorEnv`` (one subprocess per copy)."""
START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
"""The multiprocessing start method of ``vec_env="async"`` (never ``"fork"``: see the module docstring)."""


def check_env_type(env, allow_none=False):
    """A ``TypeError`` unless ``env`` is an id string, a ``gymnasium.Env`` or a vector env (or None when allowed)."""
    if (env is None and allow_none) or isinstance(env, (str, gym.Env, gym.vector.VectorEnv)):
        return env
    raise TypeError(
        f"invalid env={env!r} ({type(env).__name__}); expected a gymnasium id string, a gymnasium.Env "
        "or a gymnasium.vector.VectorEnv" + (" or None" if allow_none else "")
    )


def check_env_id(env_id: str):
    """Raise ``ValueError`` (with close matches) unless ``env_id`` is registered in gymnasium
    (ALE ids are registered first, from ale-py)."""
    if is_atari_id(env_id) or env_id.split("/")[0] == "ALE":
        register_atari()
    if env_id not in gym.registry:
        close = difflib.get_close_matches(env_id, list(gym.registry), n=3, cutoff=0.6)
        hint = f"; did you mean {', '.join(close)}?" if close else "; see gymnasium.registry"
        raise ValueError(f"unknown environment env={env_id!r}{hint}")


def _async_env_fn(env):
    """A picklable constructor for a subprocess: the id's ``EnvSpec`` (the child needs no registration),
    or a fresh unpickled copy of an env instance (the caller's instance is never stepped nor closed)."""
    if is_atari_id(env):
        return functools.partial(make_atari, env)  # the child registers ale-py's ids itself
    if isinstance(env, str):
        return functools.partial(gym.make, gym.spec(env))
    try:
        blob = cloudpickle.dumps(env)  # what AsyncVectorEnv would send its subprocess
    except Exception as err:  # noqa: BLE001  (pickling fails with any exception type)
        raise ValueError(
            f"invalid env={env} with vec_env='async': the env cannot be pickled to run in a subprocess "
            f"({type(err).__name__}: {err}); expected an env id, a picklable env, or vec_env='sync'"
        ) from err
    return functools.partial(cloudpickle.loads, blob)


def make_vec_env(env, n_envs: int = 1, seed: int | None = None, vec_env: str = "sync") -> gym.vector.VectorEnv:
    """A same-step-autoreset vector env from an id, an env or a vector env.

    ``env`` may be a registered id (``n_envs`` copies are made), a ``gymnasium.Env``
    (``n_envs`` must be 1) or a ``gymnasium.vector.VectorEnv`` created with
    ``autoreset_mode=gymnasium.vector.AutoresetMode.SAME_STEP`` (used as it is).
    ``vec_env``: ``"sync"`` (a ``SyncVectorEnv``, the copies stepped one after the
    other) or ``"async"`` (an ``AsyncVectorEnv``, each copy in a subprocess; an env
    instance must then be picklable and runs as a copy). Same seed, same trajectories.
    """
    same_step = gym.vector.AutoresetMode.SAME_STEP
    check_env_type(env)
    if not is_int(n_envs) or n_envs < 1:
        fail("n_envs", n_envs, "a positive integer")
    check_int("seed", seed, allow_none=True)
    check_choice("vec_env", vec_env, VEC_ENVS)
    if isinstance(env, gym.vector.VectorEnv):
        mode = env.metadata.get("autoreset_mode")
        if mode != same_step:
            raise ValueError(
                f"invalid env: a vector env with autoreset_mode={mode!r}; expected one created with "
                "autoreset_mode=gymnasium.vector.AutoresetMode.SAME_STEP (so that truncated episodes "
                "bootstrap from their final observation), or pass the env id and n_envs"
            )
        if vec_env == "async" and not isinstance(env, gym.vector.AsyncVectorEnv):
            raise ValueError(
                f"invalid vec_env='async' for a {type(env).__name__}: a vector env runs as it is; expected "
                "an env id or a gymnasium.Env with vec_env='async', or a gymnasium.vector.AsyncVectorEnv"
            )
        return env
    if isinstance(env, str):
        check_env_id(env)
    elif n_envs != 1:  # a gymnasium.Env
        raise ValueError(
            f"invalid n_envs={n_envs} for a single env instance; expected 1, or pass the env id "
            "(or a gymnasium vector env) to run several copies"
        )
    if vec_env == "async":
        fns = [_async_env_fn(env)] * int(n_envs)
        return gym.vector.AsyncVectorEnv(fns, autoreset_mode=same_step, context=START_METHOD)
    fn = (lambda: make_env(env)) if isinstance(env, str) else (lambda: env)
    return gym.vector.SyncVectorEnv([fn] * int(n_envs), autoreset_mode=same_step)


def make_env(env_id: str, **kwargs) -> gym.Env:
    """``gym.make(env_id, **kwargs)``, or for an ALE id gymnasium's standard Atari pipeline (``agents.atari``)."""
    return make_atari(env_id, **kwargs) if is_atari_id(env_id) else gym.make(env_id, **kwargs)


def vec_env_kind(venv) -> str:
    """``"async"`` for an ``AsyncVectorEnv`` (subprocesses), else ``"sync"``."""
    return "async" if isinstance(venv, gym.vector.AsyncVectorEnv) else "sync"


def built_for(venv, env) -> bool:
    """Whether dlzoo made ``venv`` from ``env`` and must close it: from an id, or as subprocess copies of an
    env instance (the user's own env or vector env is left to the user)."""
    return venv is not env and (isinstance(env, str) or isinstance(venv, gym.vector.AsyncVectorEnv))


def close_with(owner, venv, env):
    """Close ``venv`` when ``owner`` is garbage collected or at interpreter exit, if it is ``built_for`` ``env``.

    Returns the ``weakref.finalize`` (call it to close now), or ``None``.
    """
    return weakref.finalize(owner, venv.close) if built_for(venv, env) else None


def env_id(env) -> str | None:
    """The registered id of ``env`` (an id, an env or a sync or async vector env), or ``None``."""
    if isinstance(env, str):
        return env
    spec = getattr(env, "spec", None)
    if spec is None and isinstance(env, gym.vector.SyncVectorEnv):
        spec = getattr(env.envs[0], "spec", None)
    elif spec is None and isinstance(env, gym.vector.AsyncVectorEnv):
        spec = env.get_attr("spec")[0]
    return getattr(spec, "id", None)
