"""``vec_env="async"``: the copies run in subprocesses, with the same trajectories and weights as ``"sync"``.

Each async env starts one process per copy (forkserver: it imports gymnasium), so the
runs are short and the copies few; every test leaves no process behind.
"""

import gc
import json
import multiprocessing
import subprocess
import sys
import threading
import zipfile

import gymnasium as gym
import numpy as np
import pytest
from identity_envs import DiscreteIdentityEnv

import agents

PPO_SMALL = dict(n_steps=32, batch_size=32, n_epochs=2, net_arch=(16,), jit_compile=False)
DQN_SMALL = dict(learning_starts=40, train_freq=4, gradient_steps=2, batch_size=16, net_arch=(16,),
                 buffer_size=1000, target_update_interval=40, log_interval=60)


def same_weights(a, b):
    return all(np.array_equal(x, y) for x, y in zip(a.model.get_weights(), b.model.get_weights(), strict=True))


def ended(processes, timeout=10.0):
    """True once every worker process has exited (joined: no zombie left)."""
    for p in processes:
        p.join(timeout)
    return not any(p.is_alive() for p in processes)


@pytest.fixture(scope="module")
def ppo_pair():
    """PPO on CartPole-v1 with 2 copies, 128 steps, sync and async (same seed); the async one stays open."""
    kinds = {}
    for kind in ("sync", "async"):
        kinds[kind] = agents.PPO("CartPole-v1", n_envs=2, seed=3, vec_env=kind, use_rl_zoo=False, **PPO_SMALL)
        kinds[kind].learn(128)
    yield kinds["sync"], kinds["async"]
    kinds["async"].close()


def test_ppo_async_same_trajectories_and_weights_as_sync(ppo_pair):
    sync, asyn = ppo_pair
    assert isinstance(asyn.env, gym.vector.AsyncVectorEnv) and isinstance(sync.env, gym.vector.SyncVectorEnv)
    assert asyn.vec_env == "async" and sync.vec_env == "sync" and asyn.env_id == "CartPole-v1"
    for key in ("obs", "actions", "rewards", "dones"):  # the last rollout, episode ends included
        np.testing.assert_array_equal(getattr(asyn.buffer, key), getattr(sync.buffer, key), err_msg=key)
    assert asyn.buffer.dones.any()
    logs = [{k: v for k, v in a.history.history.items() if k != "steps_per_second"} for a in (sync, asyn)]
    assert logs[0] == logs[1] and len(logs[0]["loss"]) == 2
    assert same_weights(sync, asyn)


def test_dqn_async_same_replay_and_weights_as_sync():
    runs = []
    for kind in ("sync", "async"):
        with agents.DQN("CartPole-v1", n_envs=3, seed=1, vec_env=kind, use_rl_zoo=False, **DQN_SMALL) as agent:
            runs.append(agent.learn(180))
    sync, asyn = runs
    n = sync.replay.size
    assert n == asyn.replay.size == 180 and sync.replay.terminated[:n].any()
    for key in ("obs", "actions", "rewards", "next_obs", "terminated"):
        np.testing.assert_array_equal(getattr(asyn.replay, key)[:n], getattr(sync.replay, key)[:n], err_msg=key)
    assert same_weights(sync, asyn)


def test_vec_env_is_saved_and_load_rebuilds_it(ppo_pair, tmp_path):
    _, asyn = ppo_pair
    path = asyn.save(tmp_path / "ppo")
    with zipfile.ZipFile(path) as zf:
        assert json.loads(zf.read("config.json"))["vec_env"] == "async"
    with agents.load(path) as loaded:
        assert loaded.vec_env == "async" and isinstance(loaded.env, gym.vector.AsyncVectorEnv)
        assert same_weights(loaded, asyn)
    with agents.load(path, vec_env="sync") as loaded:
        assert isinstance(loaded.env, gym.vector.SyncVectorEnv)


def test_evaluate_async_equals_sync(ppo_pair):
    _, asyn = ppo_pair
    before = set(multiprocessing.active_children())
    results = [agents.evaluate(asyn, "CartPole-v1", n_episodes=4, n_envs=2, vec_env=kind, return_episode_rewards=True)
               for kind in ("sync", "async")]
    assert results[0] == results[1]
    assert set(multiprocessing.active_children()) <= before  # evaluate closed the copies it started


def test_env_instance_runs_as_a_pickled_copy():
    env = DiscreteIdentityEnv()
    with agents.PPO(env, vec_env="async", seed=0, **PPO_SMALL) as agent:
        agent.learn(32)
        assert agent.n_envs == 1 and agent.num_timesteps == 32
    assert not hasattr(env, "t")  # the caller's instance was never reset nor stepped


class LockedEnv(DiscreteIdentityEnv):
    """Holds a lock: it cannot be pickled."""

    def __init__(self):
        super().__init__()
        self.lock = threading.Lock()


def test_unpicklable_env_refused_before_any_process():
    before = set(multiprocessing.active_children())
    accepted = "expected an env id, a picklable env, or vec_env='sync'"
    with pytest.raises(ValueError, match=r"invalid env=.*LockedEnv.* with vec_env='async': the env cannot be pickled"):
        agents.PPO(LockedEnv(), vec_env="async", **PPO_SMALL)
    with pytest.raises(ValueError, match=accepted):
        agents.make_vec_env(LockedEnv(), vec_env="async")
    assert set(multiprocessing.active_children()) == before
    agents.PPO(LockedEnv(), vec_env="sync", **PPO_SMALL).close()  # in one process it needs no pickling


def test_bad_vec_env_values():
    with pytest.raises(ValueError, match=r"PPO: invalid vec_env='thread'; expected one of 'sync', 'async'"):
        agents.PPO("CartPole-v1", vec_env="thread")
    with pytest.raises(ValueError, match=r"evaluate: invalid vec_env='subproc'"):
        agents.evaluate(agents.PPO("CartPole-v1", **PPO_SMALL), vec_env="subproc")
    sync = agents.make_vec_env("CartPole-v1", 2)
    with pytest.raises(ValueError, match=r"invalid vec_env='async' for a SyncVectorEnv: a vector env runs as it is"):
        agents.PPO(sync, vec_env="async")


def test_processes_end_when_the_agent_is_collected_or_closed():
    agent = agents.PPO("CartPole-v1", n_envs=2, vec_env="async", **PPO_SMALL)
    workers = list(agent.env.processes)
    del agent
    gc.collect()
    assert ended(workers)
    # a vector env the user built is the user's: the agent does not close it
    venv = agents.make_vec_env("CartPole-v1", 2, vec_env="async")
    agent = agents.PPO(venv, **PPO_SMALL)
    assert agent.vec_env == "async" and agent.env_id == "CartPole-v1"
    del agent
    gc.collect()
    assert all(p.is_alive() for p in venv.processes)
    venv.close()
    assert ended(venv.processes)


def test_interpreter_exit_without_close_ends_the_workers():
    code = ("import agents; a = agents.PPO('CartPole-v1', n_envs=2, vec_env='async', n_steps=8, batch_size=8); "
            "a.env.reset(seed=0); print(' '.join(str(p.pid) for p in a.env.processes))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    pids = [int(p) for p in out.stdout.split()]
    assert len(pids) == 2
    for pid in pids:  # gone, not left running nor as a zombie
        with pytest.raises(FileNotFoundError):
            open(f"/proc/{pid}/stat").close()
