"""Agents in the style of stable-baselines3's tests: they run, learn identity envs,
are reproducible, round-trip through save/load, talk to Keras callbacks, and
refuse bad input with a clear message.

The first tests walk ``agents.list_agents()``: a new agent gets them by being
registered, with the facts they need declared on its class (``test_config``,
``test_learns``, ``loss_names``, ``action_spaces``)."""

import csv
import importlib.util
import os

import gymnasium as gym
import keras
import numpy as np
import pytest
from agent_checks import check_learns, check_runs, check_save_load, run_cases, vec
from identity_envs import CountdownEnv, NaNRewardEnv

import agents


def small(name):
    """The agent's own small hyperparameters (``test_config`` on its class)."""
    return agents.registry.agent_class(name).test_config


# --------------------------------------------------------------------------- every registered agent


@pytest.mark.parametrize("name,env_id", run_cases())
def test_runs_a_few_hundred_steps(name, env_id):
    check_runs(name, env_id)


@pytest.mark.parametrize("name,space", [(n, s) for n in agents.list_agents()
                                        for s in agents.registry.agent_class(n).test_learns])
def test_learns_identity_env(name, space):
    check_learns(name, space)


@pytest.mark.parametrize("name", agents.list_agents())
def test_save_load_round_trip_is_exact(name, tmp_path):
    check_save_load(name, tmp_path)


def test_every_agent_declares_its_test_data():
    for name in agents.list_agents():
        cls = agents.registry.agent_class(name)
        assert cls.test_config and cls.loss_names, name
        assert set(cls.test_learns) <= {"Discrete", "Box"}, name


# --------------------------------------------------------------------------- the machinery, on PPO and SAC


@pytest.mark.parametrize("name", ["PPO", "SAC"])
def test_same_seed_same_run(name):
    env_id = "CartPole-v1" if name == "PPO" else "Pendulum-v1"
    loss_names = agents.registry.agent_class(name).loss_names
    runs = []
    for _ in range(2):
        agent = agents.make(name, env_id, seed=3, **small(name)).learn(200)
        obs = np.random.default_rng(0).normal(size=(6, *agent.observation_space.shape)).astype("float32")
        runs.append((agent.predict(obs)[0], agent.history.history, agent.model.get_weights()))
    (a1, h1, w1), (a2, h2, w2) = runs
    np.testing.assert_array_equal(a1, a2)
    for key in loss_names:
        assert h1[key] == h2[key], key
    assert all(np.array_equal(x, y) for x, y in zip(w1, w2))
    other = agents.make(name, env_id, seed=4, **small(name))
    assert not all(np.array_equal(x, y) for x, y in zip(w1, other.model.get_weights()))


def test_dqn_options_and_tuned_defaults():
    agent = agents.DQN("CartPole-v1", double_q=True, dueling=True, **small("DQN")).learn(150)
    assert agent.config.dueling and np.isfinite(agent.history.history["loss"][-1])
    assert agents.DQN("CartPole-v1").config.train_freq == 256  # rl-baselines3-zoo's CartPole values
    assert agents.DQN("CartPole-v1", use_rl_zoo=False).config.train_freq == 4  # stable-baselines3 defaults
    assert agents.DQN("CartPole-v1").config.torch_init  # every replay agent starts from PyTorch's init
    assert agents.PPO("CartPole-v1").n_envs == 8


class Recorder(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.calls, self.logs = [], []

    def on_train_begin(self, logs=None):
        self.calls.append("train_begin")

    def on_epoch_end(self, epoch, logs=None):
        self.calls.append(epoch)
        self.logs.append(dict(logs))

    def on_train_end(self, logs=None):
        self.calls.append("train_end")


def test_callbacks_receive_logs(tmp_path):
    recorder = Recorder()
    csv_path = tmp_path / "log.csv"
    agent = agents.PPO("CartPole-v1", seed=0, **small("PPO"))  # rollouts of 8 x 32 = 256 steps
    callbacks = [recorder, keras.callbacks.CSVLogger(str(csv_path))]
    has_tensorboard = importlib.util.find_spec("tensorboard") is not None
    if has_tensorboard:
        callbacks.append(keras.callbacks.TensorBoard(str(tmp_path / "tb")))
    agent.learn(1024, callbacks=callbacks, progress_bar=True)
    assert recorder.calls == ["train_begin", 0, 1, 2, 3, "train_end"]
    assert recorder.model is agent.model
    for key in ("episode_return", "episode_length", "loss", "policy_loss", "value_loss", "steps_per_second",
                "timesteps"):
        assert key in recorder.logs[-1]
    assert recorder.logs[-1]["timesteps"] == 1024
    rows = list(csv.DictReader(open(csv_path)))
    assert len(rows) == 4 and float(rows[-1]["timesteps"]) == 1024
    if has_tensorboard:
        assert any(f.startswith("events") for _, _, files in os.walk(tmp_path / "tb") for f in files)


def test_early_stopping_on_episode_return_stops_learn():
    agent = agents.PPO("CartPole-v1", seed=0, **small("PPO"))
    stop = keras.callbacks.EarlyStopping(monitor="episode_return", mode="max", baseline=1e9, patience=2)
    agent.learn(100_000, callbacks=[stop])
    assert stop.stopped_epoch > 0 and agent.num_timesteps == 256 * (stop.stopped_epoch + 1) < 100_000


def test_truncation_bootstraps_and_termination_does_not():
    env = vec(lambda: CountdownEnv(terminate_at=100, truncate_at=3), 1)
    agent = agents.A2C(env, seed=0, n_steps=6, gamma=0.5)
    agent._reset_env()
    agent.collect_rollout()
    final_value = agent._np_values(np.array([[3.0]], np.float32))[0]
    rewards = agent.buffer.rewards[:, 0]
    np.testing.assert_allclose(rewards, [1, 1, 1 + 0.5 * final_value, 1, 1, 1 + 0.5 * final_value], rtol=1e-5)
    np.testing.assert_array_equal(agent.buffer.dones[:, 0], [0, 0, 1, 0, 0, 1])

    env = vec(lambda: CountdownEnv(terminate_at=3, truncate_at=100), 1)
    agent = agents.A2C(env, seed=0, n_steps=6)
    agent._reset_env()
    agent.collect_rollout()
    np.testing.assert_array_equal(agent.buffer.rewards[:, 0], np.ones(6))

    for terminate_at, truncate_at, expect_terminated in ((3, 100, 1.0), (100, 3, 0.0)):
        env = vec(lambda a=terminate_at, b=truncate_at: CountdownEnv(a, b), 1)
        agent = agents.DQN(env, seed=0, learning_starts=1000, log_interval=5).learn(5)
        # the third transition ends the episode: its next_obs is the real final observation, not the reset one
        assert agent.replay.next_obs[2, 0] == 3.0 and agent.replay.obs[3, 0] == 0.0
        assert agent.replay.terminated[2] == expect_terminated


def test_env_forms_accepted():
    assert agents.PPO(gym.make("CartPole-v1")).n_envs == 1  # SB3 defaults: rl-zoo's need 8 envs
    agent = agents.A2C(vec(lambda: gym.make("CartPole-v1"), 3))
    assert agent.n_envs == 3 and agent.env_id == "CartPole-v1"


# --------------------------------------------------------------------------- bad input


def test_unsupported_action_space():
    with pytest.raises(ValueError, match=r"DQN: unsupported action space Box.*supports Discrete"):
        agents.DQN("Pendulum-v1")
    with pytest.raises(ValueError, match=r"SAC: unsupported action space Discrete"):
        agents.SAC("CartPole-v1")


def test_unknown_env_and_agent_names():
    with pytest.raises(ValueError, match=r"unknown environment env='CartPol-v1'; did you mean CartPole-v1"):
        agents.PPO("CartPol-v1")
    with pytest.raises(ValueError, match=r"unknown agent name='PPOO'.*did you mean PPO"):
        agents.make("PPOO", "CartPole-v1")
    with pytest.raises(TypeError, match="expected a gymnasium id string"):
        agents.PPO(42)


def test_bad_hyperparameters():
    with pytest.raises(ValueError, match=r"PPO: unknown hyperparameter 'n_step' \(did you mean n_steps"):
        agents.PPO("CartPole-v1", n_step=10)
    with pytest.raises(ValueError, match=r"PPO: invalid gamma=1.5"):
        agents.PPO("CartPole-v1", gamma=1.5)
    with pytest.raises(ValueError, match=r"invalid batch_size=4096; expected at most n_steps \* n_envs = 256"):
        agents.PPO("CartPole-v1", batch_size=4096)
    with pytest.raises(ValueError, match=r"invalid total_timesteps=0"):
        agents.A2C("CartPole-v1").learn(0)
    with pytest.raises(ValueError, match="autoreset_mode"):
        agents.PPO(gym.make_vec("CartPole-v1", 2))


def test_nan_loss_stops_with_message():
    agent = agents.A2C(vec(NaNRewardEnv, 1), seed=0, n_steps=8)
    with pytest.raises(FloatingPointError, match=r"A2C: \w*loss=nan at timestep \d+; training stopped"):
        agent.learn(64)


def test_load_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        agents.load(tmp_path / "missing.zip")
    bad = tmp_path / "bad.zip"
    bad.write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="could not read agent file"):
        agents.load(bad)
    path = agents.PPO("CartPole-v1", **small("PPO")).save(tmp_path / "ppo")
    with pytest.raises(ValueError, match="was saved for (observation|action)_space"):
        agents.load(path, env=gym.make("MountainCarContinuous-v0"))


def test_zoo_callbacks_work_unchanged(tmp_path):
    from zoo.callbacks import Checkpoint, EarlyStopping

    agent = agents.PPO("CartPole-v1", seed=0, **small("PPO"))
    checkpoint = Checkpoint(tmp_path / "ckpt", monitor="episode_return", mode="max")
    stop = EarlyStopping(monitor="episode_return", patience=1)  # restore_best_weights=True
    agent.learn(256 * 12, callbacks=[checkpoint, stop])
    assert checkpoint.best == max(v for v in agent.history.history["episode_return"] if np.isfinite(v))
    assert os.path.isfile(checkpoint.path("last")) and os.path.isfile(checkpoint.path("best"))
    best = [w.copy() for w in agent.model.get_weights()]
    fresh = agents.PPO("CartPole-v1", seed=1, **small("PPO"))
    fresh.model.load_weights(checkpoint.path("best"))
    assert all(np.array_equal(x, y) for x, y in zip(best, fresh.model.get_weights()))


def test_eval_callback_logs_and_keeps_best_weights():
    agent = agents.PPO("CartPole-v1", seed=0, **small("PPO"))
    best = agents.EvalCallback("CartPole-v1", n_episodes=2, every=2, seed=5)
    recorder = Recorder()
    agent.learn(256 * 4, callbacks=[best, recorder])
    evals = [logs.get("eval_return") for logs in recorder.logs]
    assert evals[0] is None and evals[2] is None and best.best == max(evals[1], evals[3])
    assert all(np.array_equal(x, y) for x, y in zip(best.best_weights, agent.model.get_weights()))
    with pytest.raises(ValueError, match="invalid every=0"):
        agents.EvalCallback(every=0)


def test_ppo_value_clipping_and_obs_normalisation():
    agent = agents.PPO("Pendulum-v1", seed=0, clip_range_vf=0.2, normalize_obs=True, **small("PPO"))
    agent.learn(256)
    assert np.isfinite(agent.history.history["value_loss"][-1])
    assert agent.normalizer.count.numpy() == 256  # statistics of every observation collected
    obs = np.array([[1.0, 0.0, 8.0]], np.float32)
    expected = agent.model.actor(agent.normalizer(obs)).numpy()
    np.testing.assert_allclose(agent.policy_model(obs).numpy(), expected, rtol=1e-6)  # normalisation inside
