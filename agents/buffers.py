"""Rollout and replay storage, and the return math (GAE, discounted returns).

Arrays are time-major, ``[n_steps, n_envs, ...]``. ``dones[t]`` is true when
the transition at ``t`` ended its episode (terminated or truncated); a
truncated episode is bootstrapped by adding ``gamma * V(final_obs)`` to its
last reward before these functions run (``agents.base``), so a done always
means "no future value from here".
"""

from __future__ import annotations

import copy
import json
import logging
import os

import numpy as np

log = logging.getLogger("agents")

__all__ = ["compute_gae", "discounted_returns", "complete_episode_mask", "RolloutBuffer", "ReplayBuffer"]


def compute_gae(rewards, values, dones, last_values, gamma=0.99, gae_lambda=0.95):
    """Generalised advantage estimation (Schulman et al. 2016).

    ``rewards``, ``values``, ``dones``: ``[T, n_envs]``; ``last_values``: ``[n_envs]``,
    the value of the observation after the last step. Returns ``(advantages, returns)``
    with ``returns = advantages + values``. ``gae_lambda=1`` gives Monte Carlo
    returns bootstrapped at the rollout end, ``0`` one-step TD errors.
    """
    rewards = np.asarray(rewards, np.float32)
    values = np.asarray(values, np.float32)
    dones = np.asarray(dones, np.float32)
    advantages = np.zeros_like(rewards)
    last_gae = np.zeros(rewards.shape[1:], np.float32)
    next_values = np.asarray(last_values, np.float32)
    for t in reversed(range(rewards.shape[0])):
        not_done = 1.0 - dones[t]
        delta = rewards[t] + gamma * next_values * not_done - values[t]
        last_gae = delta + gamma * gae_lambda * not_done * last_gae
        advantages[t] = last_gae
        next_values = values[t]
    return advantages, advantages + values


def discounted_returns(rewards, dones, last_values=None, gamma=0.99):
    """``G_t = r_t + gamma * G_{t+1}``, restarting after every done; ``G_T`` = ``last_values`` (default 0)."""
    rewards = np.asarray(rewards, np.float32)
    dones = np.asarray(dones, np.float32)
    returns = np.zeros_like(rewards)
    running = np.zeros(rewards.shape[1:], np.float32) if last_values is None else np.asarray(last_values, np.float32)
    for t in reversed(range(rewards.shape[0])):
        running = rewards[t] + gamma * running * (1.0 - dones[t])
        returns[t] = running
    return returns


def complete_episode_mask(dones):
    """True at steps whose episode ends inside the rollout (its full return is known)."""
    dones = np.asarray(dones, bool)
    # reversed cumulative "any done at or after t" per env
    return np.flip(np.logical_or.accumulate(np.flip(dones, 0), axis=0), 0)


def _warn_if_too_big(nbytes, capacity):
    """A warning when the replay's observations would not fit in the machine's memory."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # not a POSIX system
        return
    if nbytes > total:
        log.warning("replay buffer of %d transitions needs %.1f GB for its observations and the machine has "
                    "%.1f GB: lower buffer_size", capacity, nbytes / 1e9, total / 1e9)


class RolloutBuffer:
    """On-policy storage for one rollout of ``n_steps`` steps of ``n_envs`` envs.

    Observations keep ``obs_dtype`` (uint8 frames stay uint8: a quarter of float32's bytes).
    """

    def __init__(self, n_steps, n_envs, obs_shape, action_shape, action_dtype, obs_dtype=np.float32):
        self.n_steps, self.n_envs = n_steps, n_envs
        self.obs = np.zeros((n_steps, n_envs, *obs_shape), obs_dtype)
        self.actions = np.zeros((n_steps, n_envs, *action_shape), action_dtype)
        self.rewards = np.zeros((n_steps, n_envs), np.float32)
        self.dones = np.zeros((n_steps, n_envs), np.float32)
        self.values = np.zeros((n_steps, n_envs), np.float32)
        self.log_probs = np.zeros((n_steps, n_envs), np.float32)
        self.pos = 0

    def add(self, obs, actions, rewards, dones, values, log_probs):
        t = self.pos
        self.obs[t], self.actions[t], self.rewards[t] = obs, actions, rewards
        self.dones[t], self.values[t], self.log_probs[t] = dones, values, log_probs
        self.pos += 1

    @property
    def full(self):
        return self.pos >= self.n_steps

    def reset(self):
        self.pos = 0

    def flat(self, *arrays):
        """``[T, n_envs, ...]`` arrays flattened to ``[T * n_envs, ...]``."""
        return tuple(np.asarray(a).reshape(self.n_steps * self.n_envs, *np.shape(a)[2:]) for a in arrays)


class ReplayBuffer:
    """Off-policy circular storage of ``(obs, action, reward, next_obs, terminated)``.

    ``next_obs`` of a truncated step is the real final observation (not the reset
    one) and ``terminated`` is false there, so the target bootstraps through time limits.
    Observations keep their shape and ``obs_dtype`` (100k stacked 84x84x4 uint8 frames:
    2 x 2.8 GB); a buffer larger than the machine's memory is reported with a warning
    (the pages are only taken as it fills).
    """

    def __init__(self, capacity, obs_shape, action_shape, action_dtype, seed=0, obs_dtype=np.float32):
        self.capacity = int(capacity)
        _warn_if_too_big(2 * self.capacity * int(np.prod(obs_shape)) * np.dtype(obs_dtype).itemsize, capacity)
        self.obs = np.zeros((self.capacity, *obs_shape), obs_dtype)
        self.next_obs = np.zeros((self.capacity, *obs_shape), obs_dtype)
        self.actions = np.zeros((self.capacity, *action_shape), action_dtype)
        self.rewards = np.zeros((self.capacity,), np.float32)
        self.terminated = np.zeros((self.capacity,), np.float32)
        self.pos, self.size = 0, 0
        self.rng = np.random.default_rng(seed)

    def add(self, obs, actions, rewards, next_obs, terminated):
        """Add a batch of transitions (one per env)."""
        for i in range(len(rewards)):
            p = self.pos
            self.obs[p], self.actions[p], self.rewards[p] = obs[i], actions[i], rewards[i]
            self.next_obs[p], self.terminated[p] = next_obs[i], terminated[i]
            self.pos = (p + 1) % self.capacity
            self.size = min(self.size + 1, self.capacity)

    def sample_indices(self, n_batches, batch_size):
        return self.rng.integers(0, self.size, size=(n_batches, batch_size))

    def sample(self, n_batches, batch_size):
        """``n_batches`` minibatches at once, each array ``[n_batches, batch_size, ...]``."""
        idx = self.sample_indices(n_batches, batch_size)
        return (self.obs[idx], self.actions[idx], self.rewards[idx], self.next_obs[idx], self.terminated[idx])

    def __len__(self):
        return self.size

    _STATE_KEYS = ("obs", "actions", "rewards", "next_obs", "terminated")

    def state(self) -> dict:
        """The stored transitions, ``pos`` and the sampling RNG as plain arrays (npz-ready, no pickle)."""
        n = self.size
        arrays = {key: getattr(self, key)[:n] for key in self._STATE_KEYS}
        return {**arrays, "pos": np.int64(self.pos), "rng": np.array(json.dumps(self.rng.bit_generator.state))}

    def with_state(self, state: dict) -> ReplayBuffer:
        """A new buffer of this capacity and shapes holding ``state`` (from :meth:`state`); self is unchanged.

        At the same capacity the layout and ``pos`` are kept exactly (sampling repeats);
        at another one the newest transitions are kept in order. ``ValueError`` if ``state`` does not fit.
        """
        missing = [k for k in (*self._STATE_KEYS, "pos", "rng") if k not in state]
        if missing:
            raise ValueError(f"replay buffer state lacks {missing}")
        size, pos = (np.shape(state["rewards"]) or (0,))[0], int(state["pos"])
        for key in self._STATE_KEYS:
            want = (size, *getattr(self, key).shape[1:])
            if np.shape(state[key]) != want:
                raise ValueError(f"replay buffer state: {key} has shape {np.shape(state[key])}; expected {want}")
        if not 0 <= pos <= size:
            raise ValueError(f"replay buffer state: pos={pos} does not fit size={size}")
        new = copy.copy(self)
        new.rng = np.random.default_rng()
        new.rng.bit_generator.state = json.loads(str(state["rng"]))
        order = np.arange(size)
        if size > self.capacity or (pos != size and size != self.capacity):  # saved at another capacity
            order = np.concatenate([np.arange(pos, size), np.arange(pos)])[-self.capacity:]  # oldest first
            pos = len(order)
        for key in self._STATE_KEYS:
            array = np.zeros_like(getattr(self, key))
            array[:len(order)] = np.asarray(state[key])[order]
            setattr(new, key, array)
        new.pos, new.size = pos % self.capacity, len(order)
        return new
