"""ALE ids (``agents.atari``): made through gymnasium's standard Atari pipeline everywhere an id is accepted."""

import gymnasium as gym
import numpy as np
import pytest

import agents
from agents.env_util import check_env_id, make_env
from agents.hyperparams import resolve

pytest.importorskip("ale_py")
pytest.importorskip("cv2")  # AtariPreprocessing resizes with OpenCV

GAME = "ALE/Breakout-v5"  # short episodes under a poor policy
SMALL = dict(buffer_size=500, learning_starts=64, batch_size=8, train_freq=4, log_interval=64,
             policy_kwargs={"features_dim": 32})


def test_an_ale_id_makes_the_standard_pipeline():
    env = make_env(GAME)
    assert env.observation_space.shape == (4, 84, 84) and env.observation_space.dtype == np.uint8
    names = []
    while isinstance(env, gym.Wrapper):
        names.append(type(env).__name__)
        env = env.env
    assert {"FrameStackObservation", "AtariPreprocessing"} <= set(names)
    assert env.unwrapped._frameskip == 1  # AtariPreprocessing skips the frames (max-pooled)


def test_agents_get_the_cnn_policy_and_rl_zoo_atari_settings():
    dqn = agents.make("DQN", GAME, **SMALL)
    assert dqn.policy == "cnn" and dqn.observation_space.shape == (4, 84, 84)
    assert dqn.config.learning_rate == 1e-4 and dqn.config.target_update_interval == 1000  # rl-zoo's atari
    ppo = agents.make("PPO", GAME, n_envs=1, n_steps=8, batch_size=8)
    assert ppo.config.n_steps == 8 and ppo.config.clip_range == 0.1 and ppo.config.ent_coef == 0.01
    assert agents.make("PPO", "CartPole-v1").policy == "mlp"
    a2c = agents.make("A2C", GAME, n_envs=1, n_steps=8)
    assert isinstance(a2c.optimizer, agents.RMSpropTFLike) and a2c.config.vf_coef == 0.25  # rl-zoo's RMSpropTFLike
    rows = {name: (value, source) for name, value, source in resolve(agents.DQN, GAME).rows}
    assert rows["policy"] == ("cnn", "dlzoo default") and rows["learning_rate"] == (1e-4, "rl-zoo")


def test_trains_saves_loads_and_evaluates_on_its_id(tmp_path):
    agent = agents.make("DQN", GAME, seed=0, **SMALL).learn(128)
    loaded = agents.load(agent.save(tmp_path / "breakout"))
    assert loaded.env_id == GAME and loaded.observation_space == agent.observation_space
    obs = agent.env.reset(seed=1)[0]
    np.testing.assert_array_equal(agent.predict(obs)[0], loaded.predict(obs)[0])
    mean, _ = agents.evaluate(loaded, n_episodes=1, seed=0)  # the saved id, rebuilt with its wrappers
    assert np.isfinite(mean)


def test_async_copies_equal_sync_ones():
    sync = agents.make_vec_env(GAME, 2, seed=3)
    copies = agents.make_vec_env(GAME, 2, seed=3, vec_env="async")
    try:
        np.testing.assert_array_equal(sync.reset(seed=3)[0], copies.reset(seed=3)[0])
        action = np.array([1, 2])
        np.testing.assert_array_equal(sync.step(action)[0], copies.step(action)[0])
    finally:
        sync.close()
        copies.close()


def test_an_unknown_ale_id_names_close_ones():
    with pytest.raises(ValueError, match=r"unknown environment env='ALE/Brekout-v5'; did you mean ALE/Breakout-v5"):
        check_env_id("ALE/Brekout-v5")
