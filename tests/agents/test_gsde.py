"""gSDE (``use_sde``): its density against stable-baselines3's formula, when the noise is redrawn,
acting in NumPy against the TensorFlow density, learning, saving, and its bad arguments."""

import math

import numpy as np
import pytest
import tensorflow as tf
from agent_checks import IDENTITY_ENV, vec

import agents
from agents.gsde import StateDependentNoise, noise_std, sde_std

RNG = np.random.default_rng(0)
MEAN = RNG.normal(size=(5, 2)).astype(np.float32)
LOG_STD = RNG.normal(-1.0, 0.3, size=(3, 2)).astype(np.float32)
LATENT = RNG.normal(size=(5, 3)).astype(np.float32)
ACTIONS = RNG.normal(size=(5, 2)).astype(np.float32)


def reference_std():
    """stable-baselines3's ``StateDependentNoiseDistribution`` (full_std, exp): sqrt(latent^2 @ std^2 + 1e-6)."""
    return np.sqrt((LATENT.astype(np.float64) ** 2) @ np.exp(2.0 * LOG_STD.astype(np.float64)) + 1e-6)


def test_density_and_entropy_follow_the_gsde_formula():
    std = reference_std()
    want_logp = np.sum(-0.5 * ((ACTIONS - MEAN) / std) ** 2 - np.log(std) - 0.5 * math.log(2 * math.pi), -1)
    want_entropy = np.sum(0.5 + 0.5 * math.log(2 * math.pi) + np.log(std), -1)
    dist = StateDependentNoise(tf.constant(MEAN), tf.constant(LOG_STD), tf.constant(LATENT))
    np.testing.assert_allclose(dist.log_prob(tf.constant(ACTIONS)).numpy(), want_logp, rtol=1e-5)
    np.testing.assert_allclose(dist.entropy().numpy(), want_entropy, rtol=1e-5)
    np.testing.assert_allclose(sde_std(LATENT, LOG_STD), std, rtol=1e-5)


def test_squashed_density_subtracts_the_tanh_correction():
    dist = StateDependentNoise(tf.constant(MEAN), tf.constant(LOG_STD), tf.constant(LATENT), squash=True)
    actions, logp = dist.sample_and_log_prob(tf.random.Generator.from_seed(1))
    u = np.arctanh(np.clip(actions.numpy().astype(np.float64), -1 + 1e-7, 1 - 1e-7))
    std = reference_std()
    gauss = np.sum(-0.5 * ((u - MEAN) / std) ** 2 - np.log(std) - 0.5 * math.log(2 * math.pi), -1)
    np.testing.assert_allclose(logp.numpy(), gauss - np.sum(np.log(1 - np.tanh(u) ** 2), -1), rtol=1e-3, atol=1e-3)


def test_expln_is_exp_below_zero_and_log1p_plus_one_above():
    log_std = np.array([[-2.0, 0.0], [0.5, 3.0]], np.float32)
    want = np.array([[math.exp(-2.0), 1.0], [math.log1p(0.5 + 1e-6) + 1, math.log1p(3.0 + 1e-6) + 1]])
    np.testing.assert_allclose(noise_std(log_std, expln=True), want, rtol=1e-6)
    np.testing.assert_allclose(noise_std(tf.constant(log_std), expln=True).numpy(), want, rtol=1e-6)
    latent = LATENT[:, :2]
    np.testing.assert_allclose(sde_std(latent, log_std, expln=True),
                               np.sqrt(latent.astype(np.float64) ** 2 @ want**2 + 1e-6), rtol=1e-5)
    big = tf.Variable([[100.0]])  # exp(100) overflows float32: the other branch must not poison the gradient
    with tf.GradientTape() as tape:
        value = noise_std(big, expln=True)
    assert np.isfinite(tape.gradient(value, big).numpy()).all()


@pytest.mark.parametrize("expln", [False, True])
def test_matches_stable_baselines3_where_installed(expln):
    th = pytest.importorskip("torch")
    sb3 = pytest.importorskip("stable_baselines3.common.distributions")
    log_std = LOG_STD + (1.5 if expln else 0.0)  # some above 0, where expln differs from exp
    ref = sb3.StateDependentNoiseDistribution(2, full_std=True, use_expln=expln).proba_distribution(
        th.tensor(MEAN), th.tensor(log_std), th.tensor(LATENT))
    ours = StateDependentNoise(tf.constant(MEAN), tf.constant(log_std), tf.constant(LATENT), expln=expln)
    np.testing.assert_allclose(ours.log_prob(tf.constant(ACTIONS)).numpy(),
                               ref.log_prob(th.tensor(ACTIONS)).numpy(), rtol=1e-5)
    np.testing.assert_allclose(ours.entropy().numpy(), ref.entropy().numpy(), rtol=1e-5)


def ppo(**params):
    base = dict(n_envs=2, n_steps=8, batch_size=16, n_epochs=1, net_arch=(16,), use_sde=True, use_rl_zoo=False)
    return agents.make("PPO", "Pendulum-v1", seed=0, **{**base, **params})


@pytest.mark.parametrize("expln", [False, True])
def test_numpy_acting_matches_the_tensorflow_density(expln):
    agent = ppo(use_expln=expln, log_std_init=1.0 if expln else 0.0)
    agent._reset_env()
    agent._sync_numpy()
    agent.sde.resample(agent.n_envs, agent.np_rng)
    actions, _, logp = agent._act(agent._last_obs)
    want = agent.distribution(tf.constant(agent._last_obs)).log_prob(tf.constant(actions)).numpy()
    np.testing.assert_allclose(logp, want, rtol=1e-5, atol=1e-5)
    assert agent.model.log_std.value.shape == (16, 1)  # (latent_dim, action_dim)


def test_between_draws_a_state_gets_one_action():
    agent = ppo()
    agent._reset_env()
    agent._sync_numpy()
    obs = np.repeat(agent._last_obs[:1], 2, axis=0)
    agent.sde.resample(2, agent.np_rng)
    first, again = agent.sde.act(obs)[0], agent.sde.act(obs)[0]
    np.testing.assert_array_equal(first, again)  # the same matrices: the same action for the same state
    assert not np.array_equal(first[0], first[1])  # one matrix per env
    agent.sde.resample(2, agent.np_rng)
    assert not np.array_equal(agent.sde.act(obs)[0], first)


@pytest.mark.parametrize("freq,draws", [(-1, 1), (4, 2), (3, 3)])
def test_on_policy_noise_is_redrawn_every_sde_sample_freq_steps(freq, draws, monkeypatch):
    agent = ppo(sde_sample_freq=freq)
    agent._reset_env()
    calls = []
    original = agent.sde.resample
    monkeypatch.setattr(agent.sde, "resample", lambda n, rng: (calls.append(n), original(n, rng)))
    agent.collect_rollout()  # 8 steps per env
    assert calls == [agent.n_envs] * draws


def test_off_policy_noise_is_redrawn_when_each_collection_phase_starts(monkeypatch):
    agent = agents.make("SAC", "Pendulum-v1", seed=0, use_sde=True, learning_starts=0, train_freq=8,
                        gradient_steps=1, batch_size=8, net_arch=(8,), log_interval=32, use_rl_zoo=False)
    calls = []
    original = agent.sde.resample
    monkeypatch.setattr(agent.sde, "resample", lambda n, rng: (calls.append(agent.num_timesteps), original(n, rng)))
    agent.learn(32)
    assert calls == [0, 8, 16, 24]


def test_sac_acts_with_gsde_during_warm_up_with_use_sde_at_warmup(monkeypatch):
    params = dict(use_sde=True, learning_starts=32, train_freq=8, gradient_steps=1, batch_size=8, net_arch=(8,),
                  log_interval=16, use_rl_zoo=False)
    agent = agents.make("SAC", "Pendulum-v1", seed=0, use_sde_at_warmup=True, **params)
    monkeypatch.setattr(agent, "_random_action", lambda: pytest.fail("a uniform action in the warm-up"))
    draws = []
    original = agent.sde.resample
    monkeypatch.setattr(agent.sde, "resample", lambda n, rng: (draws.append(agent.num_timesteps), original(n, rng)))
    agent.learn(48)
    assert draws == [0, 8, 16, 24, 32, 40]  # a new matrix per train_freq phase, in the warm-up too (as SB3)
    uniform = agents.make("SAC", "Pendulum-v1", seed=0, **params)
    calls = []
    monkeypatch.setattr(uniform, "_random_action", lambda: calls.append(1) or np.zeros((1, 1), np.float32))
    uniform.learn(48)
    assert len(calls) == 32


@pytest.mark.parametrize("name,params,steps", [
    ("PPO", dict(n_envs=4, n_steps=16, batch_size=32, learning_rate=1e-2, net_arch=(32,), log_std_init=-1.0), 2000),
    ("SAC", dict(learning_starts=50, train_freq=4, gradient_steps=4, batch_size=64, net_arch=(32, 32),
                 learning_rate=3e-3, log_interval=100, buffer_size=5000), 800),
])
def test_agents_learn_with_gsde(name, params, steps):
    make_env = IDENTITY_ENV["Box"]
    params = dict(params)
    agent = agents.make(name, vec(make_env, params.pop("n_envs", 1)), seed=0, use_sde=True, **params)
    before, _ = agents.evaluate(agent, make_env(), n_episodes=5)
    agent.learn(steps)
    after, _ = agents.evaluate(agent, make_env(), n_episodes=5)
    assert after >= 17 > before, (before, after)  # the optimum is 20; acting at random scores ~ 10


@pytest.mark.parametrize("name", ["PPO", "SAC"])
def test_gsde_agent_save_load_round_trip_is_exact(name, tmp_path):
    params = dict(net_arch=(8,), use_sde=True, use_rl_zoo=False)
    params.update(n_steps=16, batch_size=16, n_epochs=1) if name == "PPO" else params.update(learning_starts=20,
                                                                                            batch_size=16)
    agent = agents.make(name, "Pendulum-v1", seed=0, **params).learn(64)
    loaded = agents.load(agent.save(tmp_path / "agent"))
    assert loaded.config.use_sde and loaded.model.log_std.value.shape == agent.model.log_std.value.shape
    assert all(np.array_equal(x, y) for x, y in zip(agent.model.get_weights(), loaded.model.get_weights()))
    obs = np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32)
    np.testing.assert_array_equal(agent.predict(obs)[0], loaded.predict(obs)[0])
    mode = np.asarray(agent.policy_model(obs))  # SAC's: in [-1, 1] before rescaling to Pendulum's [-2, 2]
    np.testing.assert_allclose(mode * (2.0 if name == "SAC" else 1.0), agent.predict(obs)[0], atol=1e-5)


def test_rl_zoo_settings_use_gsde_where_rl_zoo_does():
    assert agents.make("PPO", "Pendulum-v1").config.use_sde
    assert agents.make("PPO", "Pendulum-v1").config.sde_sample_freq == 4
    sac = agents.make("SAC", "MountainCarContinuous-v0").config
    assert sac.use_sde and sac.log_std_init == -3.67 and sac.net_arch == (64, 64)
    assert not agents.make("SAC", "Pendulum-v1").config.use_sde


@pytest.mark.parametrize("name,env,params,match", [
    ("PPO", "CartPole-v1", dict(use_sde=True), r"use_sde.*Discrete"),
    ("A2C", "CartPole-v1", dict(use_sde=True), r"use_sde.*Discrete"),
    ("PPO", "Pendulum-v1", dict(use_sde=True, sde_sample_freq=0), r"sde_sample_freq.*-1.*positive"),
    ("SAC", "Pendulum-v1", dict(use_sde=True, sde_sample_freq=-2), r"sde_sample_freq"),
    ("TD3", "Pendulum-v1", dict(use_sde=True), r"unknown hyperparameter 'use_sde'"),
    ("PPO", "Pendulum-v1", dict(use_sde=False, use_expln=True), r"use_expln=True.*False unless use_sde=True"),
    ("SAC", "Pendulum-v1", dict(use_sde_at_warmup=True), r"use_sde_at_warmup=True.*False unless use_sde=True"),
    ("PPO", "Pendulum-v1", dict(use_sde_at_warmup=True), r"unknown hyperparameter 'use_sde_at_warmup'"),
])
def test_bad_gsde_arguments_are_refused(name, env, params, match):
    with pytest.raises(ValueError, match=match):
        agents.make(name, env, **params)
