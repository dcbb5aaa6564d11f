"""Resumable training: a run killed with SIGKILL and rerun ends with exactly the weights of an
uninterrupted run; checkpoints of another run, torn or corrupt ones are refused before any
training and change nothing; ``save(include_replay=True)`` round-trips the replay buffer."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import zipfile

import gymnasium as gym
import keras
import numpy as np
import pytest
import resume_script
from agent_checks import save_env

import agents
from agents import checkpoint

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "resume_script.py")
PPO_TINY = dict(n_envs=2, n_steps=32, batch_size=32, n_epochs=2, net_arch=(16,), jit_compile=False, use_rl_zoo=False)


def start_script(name, ckpt, out):
    env = {**os.environ, "PYTHONPATH": ROOT, "CUDA_VISIBLE_DEVICES": ""}
    return subprocess.Popen([sys.executable, SCRIPT, name, str(ckpt), str(out)], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def weights(agent):
    return [np.asarray(w) for w in agent.model.get_weights()]


def same_weights(a, b):
    return len(a) == len(b) and all(np.array_equal(x, y) for x, y in zip(a, b))


def wait_for_checkpoint(proc, ckpt, deadline):
    while not os.path.exists(checkpoint.checkpoint_path(ckpt)):
        assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
        assert time.monotonic() < deadline, "no checkpoint within 90 s"
        time.sleep(0.05)


def test_sigkill_then_rerun_equals_an_uninterrupted_run(tmp_path):
    """PPO and DQN side by side in subprocesses, SIGKILLed after their first checkpoint, rerun to
    the end and compared with uninterrupted runs (computed here while the subprocesses start)."""
    names = list(resume_script.RUNS)
    ckpts = {n: tmp_path / n / "ckpt" for n in names}
    outs = {n: tmp_path / n / "final.npz" for n in names}
    procs = {n: start_script(n, ckpts[n], outs[n]) for n in names}
    try:
        references = {}
        for name in names:
            agent, total, _ = resume_script.make(name)
            references[name] = (agent.learn(total), total)  # without checkpoints
        deadline = time.monotonic() + 90
        for name, proc in procs.items():
            wait_for_checkpoint(proc, ckpts[name], deadline)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
    for name, proc in procs.items():
        assert proc.returncode == -signal.SIGKILL, name
        info = checkpoint.read_info(ckpts[name])
        assert not info["done"] and 0 < info["num_timesteps"] < references[name][1], (name, info)
        assert not outs[name].exists()

    for name in names:  # the rerun: the same script's code, in this process (it never saw the killed run)
        resume_script.main(name, ckpts[name], outs[name])
        assert checkpoint.read_info(ckpts[name])["done"]
        agent = references[name][0]
        with np.load(outs[name]) as final:
            resumed = [final[f"arr_{i}"] for i in range(len(final.files) - 1)]
            assert int(final["num_timesteps"]) == agent.num_timesteps, name
        assert same_weights(resumed, weights(agent)), name


@pytest.fixture(scope="module")
def finished_run(tmp_path_factory):
    """A PPO run of 128 steps that checkpointed and finished: ``(agent, its checkpoint_dir)``."""
    ckpt = tmp_path_factory.mktemp("finished") / "ckpt"
    agent = agents.PPO("CartPole-v1", seed=0, **PPO_TINY).learn(128, checkpoint_dir=ckpt, checkpoint_every=64)
    return agent, ckpt


@pytest.fixture
def finished(finished_run, tmp_path):
    """``finished_run`` with a copy of its checkpoint_dir that a test may damage."""
    agent, ckpt = finished_run
    shutil.copytree(ckpt, tmp_path / "ckpt")
    return agent, tmp_path / "ckpt"


def test_a_finished_run_returns_at_once_with_its_state(finished):
    agent, ckpt = finished
    again = agents.PPO("CartPole-v1", seed=0, **PPO_TINY)
    t0 = time.perf_counter()
    again.learn(128, checkpoint_dir=ckpt)
    assert time.perf_counter() - t0 < 1.0
    assert again.num_timesteps == agent.num_timesteps == 128
    assert same_weights(weights(again), weights(agent))
    assert again.history.history["loss"] == agent.history.history["loss"] and again.history.epoch == [0, 1]
    assert [v.numpy().tolist() for v in again.optimizer.variables] == [v.numpy().tolist() for v in agent.optimizer.variables]


@pytest.mark.parametrize("make,match", [
    (lambda: agents.DQN("CartPole-v1", seed=0, net_arch=(16,)), r"agent: 'PPO' in the checkpoint, 'DQN' here\. Rerun"),
    (lambda: agents.PPO("Acrobot-v1", seed=0, **PPO_TINY), r"env_id: 'CartPole-v1' in the checkpoint, 'Acrobot-v1' here"),
    (lambda: agents.PPO("CartPole-v1", seed=0, **{**PPO_TINY, "learning_rate": 1e-3}),
     r"hyperparams.learning_rate: 0.0003 in the checkpoint, 0.001 here"),
    (lambda: agents.PPO("CartPole-v1", seed=1, **PPO_TINY), r"seed: 0 in the checkpoint, 1 here"),
])
def test_a_checkpoint_of_another_run_is_refused_before_training(finished, make, match):
    _, ckpt = finished
    other = make()
    before = weights(other)
    with pytest.raises(ValueError, match=f"checkpoint_dir='{re.escape(str(ckpt))}' holds a checkpoint of another run.*{match}"):
        other.learn(128, checkpoint_dir=ckpt)
    assert other.num_timesteps == 0 and same_weights(weights(other), before)


def test_a_checkpoint_from_before_a_new_hyperparameter_resumes_at_its_default(finished):
    """A field added since the checkpoint was written (``adam_form``) counts as its default, which the run had."""
    _, ckpt = finished
    path = checkpoint.checkpoint_path(ckpt)
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    meta = json.loads(parts["meta.json"])
    del meta["agent"]["hyperparams"]["adam_form"]
    with zipfile.ZipFile(path, "w") as zf:
        for name, content in {**parts, "meta.json": json.dumps(meta).encode()}.items():
            zf.writestr(name, content)
    again = agents.PPO("CartPole-v1", seed=0, **PPO_TINY)
    again.learn(128, checkpoint_dir=ckpt)
    assert again.num_timesteps == 128
    with pytest.raises(ValueError, match=r"hyperparams.adam_form: 'keras' in the checkpoint, 'torch' here"):
        agents.PPO("CartPole-v1", seed=0, **PPO_TINY, adam_form="torch").learn(128, checkpoint_dir=ckpt)


def test_another_total_timesteps_is_refused(finished):
    _, ckpt = finished
    with pytest.raises(ValueError, match="learn total_timesteps: 128 in the checkpoint, 256 here"):
        agents.PPO("CartPole-v1", seed=0, **PPO_TINY).learn(256, checkpoint_dir=ckpt)


def test_corrupt_or_torn_checkpoints_raise_and_change_nothing(finished):
    _, ckpt = finished
    path = checkpoint.checkpoint_path(ckpt)
    with zipfile.ZipFile(path) as zf:
        parts = {n: zf.read(n) for n in zf.namelist()}
    damaged = {
        "garbage": b"not a zip file",
        "torn": open(path, "rb").read()[:5000],
        "no arrays": {k: v for k, v in parts.items() if k != "arrays.npz"},
        "bad envs": {**parts, "meta.json": json.dumps({**json.loads(parts["meta.json"]), "envs": "junk"}).encode()},
        "foreign meta": {**parts, "meta.json": b'{"format_version": 1}'},
    }
    for what, content in damaged.items():
        if isinstance(content, dict):
            with zipfile.ZipFile(path, "w") as zf:
                for k, v in content.items():
                    zf.writestr(k, v)
        else:
            with open(path, "wb") as f:
                f.write(content)
        agent = agents.PPO("CartPole-v1", seed=0, **PPO_TINY)
        before = weights(agent)
        with pytest.raises(ValueError, match=f"could not read checkpoint '{re.escape(path)}'.*delete it"):
            agent.learn(128, checkpoint_dir=ckpt)
        assert agent.num_timesteps == 0 and agent._last_obs is None and same_weights(weights(agent), before), what


def test_a_failed_write_keeps_the_previous_checkpoint(finished_run, tmp_path, monkeypatch):
    ckpt = tmp_path / "ckpt"
    real_savez, calls = np.savez, []

    def failing_savez(*args, **kwargs):  # 1: the checkpoint at 64 steps; 2: the final one
        calls.append(1)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_savez(*args, **kwargs)

    monkeypatch.setattr(checkpoint.np, "savez", failing_savez)
    with pytest.raises(OSError, match="disk full"):
        agents.PPO("CartPole-v1", seed=0, **PPO_TINY).learn(128, checkpoint_dir=ckpt, checkpoint_every=64)
    assert os.listdir(ckpt) == [checkpoint.FILENAME]  # no temporary file left behind
    info = checkpoint.read_info(ckpt)
    assert info["num_timesteps"] == 64 and not info["done"]
    (ckpt / ".checkpoint.zip.abc.tmp.zip").write_bytes(b"half a write")  # as a SIGKILL mid-write leaves it
    monkeypatch.setattr(checkpoint.np, "savez", real_savez)
    resumed = agents.PPO("CartPole-v1", seed=0, **PPO_TINY).learn(128, checkpoint_dir=ckpt)
    assert os.listdir(ckpt) == [checkpoint.FILENAME] and checkpoint.read_info(ckpt)["done"]
    assert same_weights(weights(resumed), weights(finished_run[0]))  # as the run that was never interrupted


class ZeroEnv(gym.Env):
    """CartPole's spaces, zero observations, episodes that never end."""

    observation_space = gym.spaces.Box(-1, 1, (4,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def reset(self, seed=None, options=None):
        return np.zeros(4, np.float32), {}

    def step(self, action):
        return np.zeros(4, np.float32), 0.0, False, False, {}


class LockedEnv(ZeroEnv):
    """A lock inside: not plain data."""

    def __init__(self):
        import threading

        self.lock = threading.Lock()


class WorldEnv(ZeroEnv):
    """An opaque object made by reset, as a Box2D env's bodies are: found after the reset, before training."""

    def reset(self, seed=None, options=None):
        self.world = object()
        return super().reset(seed=seed, options=options)


def test_checkpoint_argument_errors_come_before_training(tmp_path):
    agent = agents.PPO("CartPole-v1", seed=0, **PPO_TINY)
    with pytest.raises(ValueError, match="checkpoint_every=64 needs checkpoint_dir="):
        agent.learn(64, checkpoint_every=64)
    with pytest.raises(ValueError, match="invalid checkpoint_every=0"):
        agent.learn(64, checkpoint_dir=tmp_path, checkpoint_every=0)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="it is a file, expected a folder"):
        agent.learn(64, checkpoint_dir=tmp_path / "file")
    assert agent.num_timesteps == 0 and agent._last_obs is None
    locked = agents.PPO(LockedEnv(), seed=0, **{**PPO_TINY, "n_envs": 1})
    with pytest.raises(ValueError, match="saves the envs' state as plain data .*env 'LockedEnv' holds LockedEnv.lock"):
        locked.learn(64, checkpoint_dir=tmp_path / "locked")
    world = agents.PPO(WorldEnv(), seed=0, **{**PPO_TINY, "n_envs": 1})
    with pytest.raises(ValueError, match="env 'WorldEnv' holds WorldEnv.world \\(type object\\)"):
        world.learn(64, checkpoint_dir=tmp_path / "world")
    assert locked.num_timesteps == world.num_timesteps == 0
    with pytest.raises(ValueError, match="holds LunarLander.world"):  # Box2D: its bodies are not data
        agents.PPO("LunarLander-v3", seed=0, **{**PPO_TINY, "n_envs": 1}).learn(64, checkpoint_dir=tmp_path / "ll")
    wrapped = gym.wrappers.vector.RecordEpisodeStatistics(agent.env)
    with pytest.raises(ValueError, match="checkpoint_dir needs a gymnasium.vector.SyncVectorEnv"):
        agents.PPO(wrapped, seed=0, **PPO_TINY).learn(64, checkpoint_dir=tmp_path / "wrapped")


def test_save_include_replay_round_trips_the_buffer(tmp_path):
    params = dict(resume_script.RUNS["DQN"][3], buffer_size=200)
    agent = agents.DQN("CartPole-v1", seed=0, **params).learn(300)  # the buffer has wrapped around
    replay = agent.replay
    assert replay.size == 200 and replay.pos == 100
    loaded = agents.load(agent.save(tmp_path / "with", include_replay=True))
    for key in ("obs", "actions", "rewards", "next_obs", "terminated"):
        np.testing.assert_array_equal(getattr(loaded.replay, key), getattr(replay, key))
    assert (loaded.replay.pos, loaded.replay.size) == (100, 200)
    assert loaded.replay.rng.bit_generator.state == replay.rng.bit_generator.state
    np.testing.assert_array_equal(loaded.replay.sample(2, 8)[0], agent.replay.sample(2, 8)[0])
    loaded.learn(40, reset_num_timesteps=False)
    assert loaded.num_timesteps == 340 and loaded.replay.pos == 140
    without = agents.load(agent.save(tmp_path / "without"))
    assert without.replay.size == 0
    smaller = agents.load(tmp_path / "with.zip", buffer_size=50)  # another capacity keeps the newest, in order
    np.testing.assert_array_equal(smaller.replay.obs, replay.obs[50:100])
    assert (smaller.replay.pos, smaller.replay.size) == (0, 50)
    with pytest.raises(ValueError, match="PPO: invalid include_replay=True; PPO has no replay buffer"):
        agents.PPO("CartPole-v1", seed=0, **PPO_TINY).save(tmp_path / "ppo", include_replay=True)
    assert not os.path.exists(tmp_path / "ppo.zip")


class KeepFirstCheckpoint(keras.callbacks.Callback):
    """Copies the first checkpoint of a run to ``keep`` (where a killed run would have left it)."""

    def __init__(self, ckpt, keep):
        super().__init__()
        self.ckpt, self.keep = ckpt, keep

    def on_epoch_end(self, epoch, logs=None):
        if os.path.exists(checkpoint.checkpoint_path(self.ckpt)) and not os.path.exists(self.keep):
            shutil.copytree(self.ckpt, self.keep)


BUILT_IN = [n for n in agents.list_agents() if agents.registry.agent_class(n).__module__.startswith("agents.")]


@pytest.mark.slow
@pytest.mark.parametrize("name,extra", [(n, {}) for n in BUILT_IN if n not in resume_script.RUNS]  # not VPG
                         + [("PPO", {"use_sde": True, "sde_sample_freq": 8}),
                            ("SAC", {"use_sde": True, "train_freq": 6}),  # SAC: a checkpoint mid-phase
                            ("A2C", {"normalize_reward": True}), ("TD3", {"normalize_reward": True}),
                            ("TD3", {"action_noise_type": "ornstein-uhlenbeck"})])  # its noise state restored
def test_every_agent_resumes_exactly(name, extra, tmp_path):
    """Registry-driven (PPO and DQN have the SIGKILL test): resuming from the first checkpoint ends
    where the whole run did; with gSDE too (SAC's noise matrices are in the checkpoint)."""
    cls = agents.registry.agent_class(name)
    params = {**cls.test_config, "net_arch": (8,), "jit_compile": False, "normalize_obs": True, **extra}
    if issubclass(cls, agents.OffPolicyAgent):
        params.update(learning_starts=20, log_interval=40)
    env, ckpt, keep = save_env(name), tmp_path / "ckpt", tmp_path / "first"
    whole = agents.make(name, env, seed=0, **params)
    every = whole._steps_per_epoch()
    whole.learn(2 * every, callbacks=[KeepFirstCheckpoint(ckpt, keep)], checkpoint_dir=ckpt, checkpoint_every=every)
    assert checkpoint.read_info(keep)["num_timesteps"] == every
    resumed = agents.make(name, env, seed=0, **params).learn(2 * every, checkpoint_dir=keep)
    assert same_weights(weights(resumed), weights(whole))
    assert resumed.history.history["timesteps"] == whole.history.history["timesteps"]
