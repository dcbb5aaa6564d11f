"""Evaluation of a trained agent: mean and standard deviation of episode returns."""

from __future__ import annotations

import numbers
import time

import gymnasium as gym
import keras
import numpy as np

from zoo.core.checks import check_bool, check_choice, check_int, check_number, fail

__all__ = ["evaluate", "EvalCallback"]


def evaluate(agent, env=None, n_episodes: int = 10, deterministic: bool = True, seed: int | None = None,
             n_envs: int | None = None, return_episode_rewards: bool = False, vec_env: str = "sync"):
    """Run ``n_episodes`` complete episodes with ``agent.predict``; return ``(mean, std)`` of their returns.

    ``env``: an id, a ``gymnasium.Env`` or a same-step-autoreset vector env (default:
    the agent's env id). Episodes run in ``n_envs`` copies at once (default
    ``min(n_episodes, 8)`` for an id); each copy runs a fixed share of the episodes,
    so short episodes are not over-counted (stable-baselines3's ``evaluate_policy``).
    ``seed`` (default: the agent's seed + 10_000) seeds the evaluation envs.
    ``return_episode_rewards=True`` returns the lists of returns and lengths instead.
    ``vec_env="async"`` runs the copies in subprocesses (``agents.make_vec_env``), closed at the end.
    """
    from agents.env_util import VEC_ENVS, built_for, check_env_type, make_vec_env

    if not callable(getattr(agent, "predict", None)):
        fail("agent", agent, "an agent (agents.PPO(...), agents.load(...)) or an object with predict(obs)", "evaluate",
             error=TypeError)
    check_env_type(env, allow_none=True)
    check_choice("vec_env", vec_env, VEC_ENVS, "evaluate")
    check_int("seed", seed, allow_none=True, owner="evaluate")
    check_int("n_envs", n_envs, minimum=1, allow_none=True, owner="evaluate")
    for arg, value in (("deterministic", deterministic), ("return_episode_rewards", return_episode_rewards)):
        check_bool(arg, value, "evaluate")
    if not isinstance(n_episodes, numbers.Integral) or isinstance(n_episodes, bool) or n_episodes < 1:
        raise ValueError(f"invalid n_episodes={n_episodes!r}; expected a positive integer")
    env = env if env is not None else agent.env_id
    if env is None:
        raise ValueError(f"{agent.name}: the agent's env has no registered id; pass env= to evaluate")
    if isinstance(env, str):
        n_envs = n_envs or min(n_episodes, 8)
    elif isinstance(env, gym.vector.VectorEnv):
        n_envs = env.num_envs
    else:
        n_envs = 1
    venv = make_vec_env(env, n_envs, vec_env=vec_env)
    seed = agent.seed + 10_000 if seed is None else seed
    try:
        returns, episode_lengths = _run_episodes(agent, venv, n_episodes, n_envs, deterministic, seed)
    finally:
        if built_for(venv, env):  # built here: its copies end here
            venv.close()
    if return_episode_rewards:
        return returns, episode_lengths
    return float(np.mean(returns)), float(np.std(returns))


def _run_episodes(agent, venv, n_episodes, n_envs, deterministic, seed):
    """Each of the ``n_envs`` copies runs its fixed share of ``n_episodes``; returns ``(returns, lengths)``."""
    obs, _ = venv.reset(seed=seed)
    targets = np.array([(n_episodes + i) // n_envs for i in range(n_envs)])
    counts = np.zeros(n_envs, int)
    running = np.zeros(n_envs)
    lengths = np.zeros(n_envs, int)
    returns, episode_lengths = [], []
    while (counts < targets).any():
        actions, _ = agent.predict(np.asarray(obs), deterministic=deterministic)
        obs, rewards, terminated, truncated, _ = venv.step(actions)
        running += rewards
        lengths += 1
        for i in np.flatnonzero(np.logical_or(terminated, truncated)):
            if counts[i] < targets[i]:
                returns.append(float(running[i]))
                episode_lengths.append(int(lengths[i]))
                counts[i] += 1
            running[i], lengths[i] = 0.0, 0
    return returns, episode_lengths


class EvalCallback(keras.callbacks.Callback):
    """Evaluate the greedy policy every ``every`` epochs of ``learn``; keep the best weights.

    Adds ``eval_return`` (and ``eval_return_std``) to the epoch's logs, so callbacks
    after it (CSVLogger, EarlyStopping, Checkpoint) see it. With ``restore_best=True``
    the agent ends ``learn`` with the weights of its best evaluation, as
    rl-baselines3-zoo's ``EvalCallback`` keeps ``best_model``; with ``restore_best=False``
    the agent keeps its final weights and the best ones stay in ``best_weights``
    (``agent.model.set_weights(callback.best_weights)`` switches to them). ``stop_at``:
    stop ``learn`` once the evaluation return reaches it. ``best``, ``best_epoch``
    and ``seconds`` (time spent evaluating) are kept on the callback. ``vec_env``: as
    in ``evaluate``.
    """

    leaves_weights = True  # evaluates; restores the best weights only as learn ends (agents.callbacks)

    def __init__(self, env=None, n_episodes: int = 5, every: int = 1, deterministic: bool = True,
                 restore_best: bool = True, stop_at: float | None = None, seed: int | None = None,
                 vec_env: str = "sync"):
        super().__init__()
        from agents.env_util import VEC_ENVS, check_env_type

        check_env_type(env, allow_none=True)
        self.vec_env = check_choice("vec_env", vec_env, VEC_ENVS, "EvalCallback")
        check_number("stop_at", stop_at, owner="EvalCallback", allow_none=True)
        check_int("seed", seed, owner="EvalCallback", allow_none=True)
        for arg, value in (("deterministic", deterministic), ("restore_best", restore_best)):
            check_bool(arg, value, "EvalCallback")
        if not isinstance(every, numbers.Integral) or isinstance(every, bool) or every < 1:
            raise ValueError(f"EvalCallback: invalid every={every!r}; expected a positive integer")
        if not isinstance(n_episodes, numbers.Integral) or isinstance(n_episodes, bool) or n_episodes < 1:
            raise ValueError(f"EvalCallback: invalid n_episodes={n_episodes!r}; expected a positive integer")
        self.env, self.n_episodes, self.every = env, int(n_episodes), int(every)
        self.deterministic, self.restore_best, self.stop_at, self.seed = deterministic, restore_best, stop_at, seed
        self.best, self.best_epoch, self.best_weights, self.seconds = -np.inf, None, None, 0.0

    def on_epoch_end(self, epoch, logs=None):
        if (epoch + 1) % self.every:
            return
        agent = getattr(self.model, "agent", None)
        if agent is None:
            raise ValueError("EvalCallback works in an agent's learn() (its model has no agent)")
        start = time.perf_counter()
        mean, std = evaluate(agent, self.env, self.n_episodes, self.deterministic, self.seed, vec_env=self.vec_env)
        if logs is not None:
            logs["eval_return"], logs["eval_return_std"] = mean, std
        if mean > self.best:
            self.best, self.best_epoch = mean, epoch
            self.best_weights = self.model.get_weights()
        self.seconds += time.perf_counter() - start
        if self.stop_at is not None and mean >= self.stop_at:
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.restore_best and self.best_weights is not None:
            self.model.set_weights(self.best_weights)
