"""The agents' math as small functions, against hand-computed values."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import agents
from agents import distributions
from agents.buffers import ReplayBuffer, complete_episode_mask, compute_gae, discounted_returns
from agents.dqn import q_targets
from agents.networks import (
    NumpyForward,
    ObsNormalizer,
    categorical_log_prob,
    dueling_q_network,
    gaussian_log_prob,
    mlp,
    polyak_update,
    squashed_gaussian_log_prob,
)
from agents.numpy_forward import VariableReader, VariableWriter
from agents.optim import apply_gradients, linear_schedule
from agents.ppo import ppo_losses


def test_discounted_returns_by_hand():
    rewards = np.array([[1.0], [2.0], [3.0], [4.0]])
    dones = np.array([[0], [1], [0], [0]])
    out = discounted_returns(rewards, dones, last_values=np.array([10.0]), gamma=0.5)
    # episode 1: G1 = 2, G0 = 1 + 0.5 * 2; episode 2 bootstraps from 10: G3 = 4 + 5, G2 = 3 + 0.5 * 9
    np.testing.assert_allclose(out[:, 0], [2.0, 2.0, 7.5, 9.0])
    np.testing.assert_allclose(discounted_returns(rewards, dones, gamma=1.0)[:, 0], [3.0, 2.0, 7.0, 4.0])


def test_gae_by_hand():
    rewards = np.array([[1.0], [1.0], [1.0]])
    values = np.array([[0.5], [0.4], [0.3]])
    dones = np.array([[0], [1], [0]])
    gamma, lam = 0.9, 0.8
    adv, ret = compute_gae(rewards, values, dones, last_values=np.array([2.0]), gamma=gamma, gae_lambda=lam)
    d2 = 1 + gamma * 2.0 - 0.3
    d1 = 1 - 0.4  # done: no bootstrap
    d0 = 1 + gamma * 0.4 - 0.5
    expected = [d0 + gamma * lam * d1, d1, d2]
    np.testing.assert_allclose(adv[:, 0], expected, rtol=1e-6)
    np.testing.assert_allclose(ret, adv + values, rtol=1e-6)


def test_gae_lambda_one_is_monte_carlo_and_zero_is_td():
    rng = np.random.default_rng(0)
    rewards, values = rng.normal(size=(6, 2)), rng.normal(size=(6, 2))
    dones = np.zeros((6, 2))
    dones[2, 0] = 1
    last = rng.normal(size=2)
    _, ret = compute_gae(rewards, values, dones, last, gamma=0.95, gae_lambda=1.0)
    np.testing.assert_allclose(ret, discounted_returns(rewards, dones, last, gamma=0.95), rtol=1e-5, atol=1e-5)
    adv, _ = compute_gae(rewards, values, dones, last, gamma=0.95, gae_lambda=0.0)
    next_values = np.vstack([values[1:], last[None]])
    np.testing.assert_allclose(adv, rewards + 0.95 * next_values * (1 - dones) - values, rtol=1e-5, atol=1e-5)


def test_complete_episode_mask():
    dones = np.array([[0, 0], [1, 0], [0, 1], [0, 0]])
    np.testing.assert_array_equal(complete_episode_mask(dones), [[1, 1], [1, 1], [0, 1], [0, 0]])


def test_polyak_update():
    target, source = [tf.Variable([1.0, 2.0])], [tf.Variable([3.0, 6.0])]
    polyak_update(target, source, 0.25)
    np.testing.assert_allclose(target[0].numpy(), [1.5, 3.0])
    polyak_update(target, source, 1.0)
    np.testing.assert_allclose(target[0].numpy(), [3.0, 6.0])


def test_linear_schedule():
    assert linear_schedule(1.0, 0.05, 0.1, 0.0) == 1.0
    assert linear_schedule(1.0, 0.0, 0.5, 0.25) == pytest.approx(0.5)
    assert linear_schedule(1.0, 0.05, 0.1, 0.5) == pytest.approx(0.05)
    assert linear_schedule(1.0, 0.05, 0.0, 0.0) == pytest.approx(0.05)


def test_log_probs_against_formulas():
    logits = tf.constant([[0.0, math.log(3.0)]])
    np.testing.assert_allclose(categorical_log_prob(logits, tf.constant([1])).numpy(), [math.log(0.75)], rtol=1e-6)
    mean, log_std, x = tf.constant([[0.0, 1.0]]), tf.constant([0.0, math.log(2.0)]), tf.constant([[1.0, 1.0]])
    expected = (-0.5 - 0.5 * math.log(2 * math.pi)) + (-math.log(2.0) - 0.5 * math.log(2 * math.pi))
    np.testing.assert_allclose(gaussian_log_prob(mean, log_std, x).numpy(), [expected], rtol=1e-6)


def test_squashed_gaussian_log_prob_is_change_of_variables():
    rng = np.random.default_rng(1)
    mean = tf.constant(rng.normal(size=(5, 2)), tf.float32)
    log_std = tf.constant(rng.normal(size=(5, 2)) * 0.3, tf.float32)
    u = tf.constant(rng.normal(size=(5, 2)) * 3, tf.float32)  # large |u|: the naive form loses precision
    naive = gaussian_log_prob(mean, log_std, u) - tf.reduce_sum(
        tf.math.log(1 - tf.tanh(tf.cast(u, tf.float64)) ** 2 + 0.0), axis=-1
    ).numpy().astype("float32")
    np.testing.assert_allclose(squashed_gaussian_log_prob(mean, log_std, u).numpy(), naive, rtol=1e-4, atol=1e-4)
    # 1-D check by numeric integration: the density of a = tanh(u) integrates to 1
    a = np.linspace(-0.99999, 0.99999, 200001)
    u1 = np.arctanh(a).astype("float32")[:, None]
    logp = squashed_gaussian_log_prob(tf.constant([[0.3]]), tf.constant([[0.2]]), tf.constant(u1)).numpy()
    assert np.trapezoid(np.exp(logp), a) == pytest.approx(1.0, abs=1e-3)


def test_q_targets_plain_and_double():
    rewards, terminated = tf.constant([1.0, 1.0]), tf.constant([0.0, 1.0])
    q_target = tf.constant([[1.0, 5.0], [2.0, 3.0]])
    q_online = tf.constant([[9.0, 0.0], [0.0, 9.0]])
    np.testing.assert_allclose(q_targets(rewards, terminated, q_target, 0.5).numpy(), [3.5, 1.0])
    np.testing.assert_allclose(q_targets(rewards, terminated, q_target, 0.5, q_online).numpy(), [1.5, 1.0])


def test_ppo_clipped_objective():
    logp, old = tf.math.log(tf.constant([1.5, 0.5])), tf.zeros(2)
    loss, _, clip_fraction = ppo_losses(logp, old, tf.constant([1.0, -1.0]), 0.2)
    # ratio 1.5 with A > 0 clipped to 1.2; ratio 0.5 with A < 0 clipped to 0.8: min(-0.5, -0.8) = -0.8
    assert float(loss) == pytest.approx(-(1.2 - 0.8) / 2)
    assert float(clip_fraction) == 1.0


def test_obs_normalizer_matches_numpy():
    rng = np.random.default_rng(0)
    data = rng.normal(3.0, 2.0, size=(300, 3))
    norm = ObsNormalizer(3, enabled=True)
    for chunk in np.split(data, [10, 110]):
        norm.update(chunk)
    np.testing.assert_allclose(norm.mean.numpy(), data.mean(0), rtol=1e-5)
    np.testing.assert_allclose(norm.var.numpy(), data.var(0), rtol=1e-4)
    x = data[:4].astype("float32")
    norm.sync()
    np.testing.assert_allclose(norm.numpy(x), keras.ops.convert_to_numpy(norm(x)), rtol=1e-5, atol=1e-5)
    assert np.array_equal(ObsNormalizer(3)(x), x)  # disabled: identity


def test_variable_writer_and_reader_round_trip_in_the_variables_dtypes():
    weights = [keras.Variable(np.zeros((2, 3)), dtype="float32"), keras.Variable(0, dtype="int64"),
               keras.Variable(np.zeros(4), dtype="float64")]
    values = [np.arange(6.0).reshape(2, 3), 7, np.full(4, 1 / 3)]
    VariableWriter(weights)(values)
    read = VariableReader(weights)()
    assert [r.dtype for r in read] == [np.float32, np.int64, np.float64]
    for got, want in zip(read, values):
        np.testing.assert_array_equal(got, np.asarray(want).astype(got.dtype))
    assert np.array_equal(weights[0].numpy(), read[0]) and float(weights[2].numpy()[0]) == 1 / 3


def test_numpy_forward_matches_keras():
    model = mlp(5, 3, (16, 8), "tanh", output_activation="tanh")
    x = np.random.default_rng(0).normal(size=(7, 5)).astype("float32")
    fwd = NumpyForward(model)
    assert fwd.ops is not None
    np.testing.assert_allclose(fwd(x), model(x).numpy(), rtol=1e-5, atol=1e-6)
    model.layers[1].kernel.assign(model.layers[1].kernel * 2)
    fwd.sync()
    np.testing.assert_allclose(fwd(x), model(x).numpy(), rtol=1e-5, atol=1e-6)


def test_numpy_forward_runs_the_dueling_head():
    model = dueling_q_network(5, 3, (16, 8))
    x = np.random.default_rng(0).normal(size=(7, 5)).astype("float32")
    fwd = NumpyForward(model)
    assert fwd.ops is not None and fwd.ops[-1][0] == "dueling"  # NumPy, not a Keras call per env step
    np.testing.assert_allclose(fwd(x), model(x).numpy(), rtol=1e-5, atol=1e-6)
    value = model.get_layer("value")
    value.bias.assign(value.bias + 1.5)
    fwd.sync()
    np.testing.assert_allclose(fwd(x), model(x).numpy(), rtol=1e-5, atol=1e-6)
    value_of = keras.Model(model.input, model.get_layer("value").output)
    np.testing.assert_allclose(fwd(x).mean(-1), value_of(x).numpy()[:, 0], rtol=1e-5, atol=1e-5)  # mean_a Q = V


def test_numpy_forward_falls_back_to_a_compiled_keras_call():
    inputs = keras.Input((5,))
    model = keras.Model(inputs, keras.layers.LayerNormalization()(keras.layers.Dense(4)(inputs)))
    fwd = NumpyForward(model)
    x = np.random.default_rng(1).normal(size=(3, 5)).astype("float32")
    assert fwd.ops is None
    np.testing.assert_allclose(fwd(x), model(x).numpy(), rtol=1e-5, atol=1e-6)
    assert fwd(x[:2]).shape == (2, 4) and fwd._keras is not None


def test_replay_buffer_wraps_around():
    buf = ReplayBuffer(3, (1,), (), np.int64, seed=0)
    for i in range(5):
        buf.add(np.array([[i]]), np.array([i]), np.array([i]), np.array([[i + 1]]), np.array([0.0]))
    assert len(buf) == 3 and sorted(buf.rewards.tolist()) == [2.0, 3.0, 4.0]
    obs, actions, rewards, next_obs, _ = buf.sample(2, 4)
    assert obs.shape == (2, 4, 1) and np.all(next_obs == obs + 1) and np.all(rewards == actions)


def test_apply_gradients_clips_the_global_norm():
    grads = [tf.constant([3.0, 0.0]), tf.constant([4.0])]  # global norm 5
    variables = [tf.Variable([0.0, 0.0]), tf.Variable([0.0])]
    apply_gradients(keras.optimizers.SGD(1.0), grads, variables, max_grad_norm=1.0)
    np.testing.assert_allclose(variables[0].numpy(), [-0.6, 0.0], rtol=1e-6)
    np.testing.assert_allclose(variables[1].numpy(), [-0.8], rtol=1e-6)
    apply_gradients(keras.optimizers.SGD(1.0), grads, variables, max_grad_norm=None)  # unclipped
    np.testing.assert_allclose(variables[0].numpy(), [-3.6, 0.0], rtol=1e-6)


def test_numpy_distributions_match_tensorflow():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 4)).astype("float32")
    actions, logp = distributions.categorical(logits).sample_and_log_prob(rng)
    np.testing.assert_allclose(logp, categorical_log_prob(tf.constant(logits), tf.constant(actions)).numpy(),
                               rtol=1e-5, atol=1e-6)
    mean, log_std = rng.normal(size=(6, 2)).astype("float32"), np.array([-0.5, 0.3], "float32")
    x, logp = distributions.diag_gaussian(mean, log_std).sample_and_log_prob(rng)
    np.testing.assert_allclose(logp, gaussian_log_prob(tf.constant(mean), tf.constant(log_std), tf.constant(x)).numpy(),
                               rtol=1e-4, atol=1e-5)
    out = rng.normal(size=(6, 2)).astype("float32") * 30
    np_dist, tf_dist = distributions.squashed_diag_gaussian(out, out), distributions.squashed_diag_gaussian(
        tf.constant(out), tf.constant(out))
    np.testing.assert_allclose(np_dist.mode(), tf_dist.mode().numpy(), rtol=1e-6)
    np.testing.assert_allclose(np_dist.log_std, tf_dist.log_std.numpy())  # both clipped to [-20, 2]
    assert np.all(np.abs(np_dist.sample(rng)) <= 1)
    q = rng.normal(size=(50, 3)).astype("float32")
    gen = tf.random.Generator.from_seed(0)
    for dist, r in ((distributions.epsilon_greedy(q, 0.0), rng), (distributions.epsilon_greedy(tf.constant(q), 0.0), gen)):
        np.testing.assert_array_equal(np.asarray(dist.sample(r)), q.argmax(-1))  # epsilon 0: greedy
    for dist, r in ((distributions.epsilon_greedy(q, 1.0), rng), (distributions.epsilon_greedy(tf.constant(q), 1.0), gen)):
        assert set(np.asarray(dist.sample(r)).tolist()) == {0, 1, 2}  # epsilon 1: uniform
    a = np.full((4, 1), 0.95, "float32")
    for dist, r in ((distributions.noisy_deterministic(a, 0.5), rng),
                    (distributions.noisy_deterministic(tf.constant(a), 0.5), gen)):
        noisy = np.asarray(dist.sample(r))
        assert np.all(np.abs(noisy) <= 1) and not np.array_equal(noisy, a)
        np.testing.assert_array_equal(np.asarray(dist.mode()), a)


def test_rmsprop_torch_like_adds_epsilon_after_the_square_root():
    """Three steps of ``agents.RMSpropTorchLike`` equal PyTorch's RMSprop formula in NumPy."""
    lr, rho, eps = 0.1, 0.9, 1e-2
    w = tf.Variable([1.0, -2.0])
    opt = agents.RMSpropTorchLike(lr, rho=rho, epsilon=eps)
    expected, v = np.array([1.0, -2.0]), np.zeros(2)
    for g in ([0.5, -1e-3], [0.2, 3.0], [-1.0, 1e-4]):
        opt.apply_gradients([(tf.constant(g), w)])
        v = rho * v + (1 - rho) * np.square(g)
        expected = expected - lr * np.asarray(g) / (np.sqrt(v) + eps)
    np.testing.assert_allclose(w.numpy(), expected, rtol=1e-6)
    # Keras's RMSprop divides by sqrt(v + eps): on a small gradient its step is ~10x smaller here
    w_keras = tf.Variable([1.0, -2.0])
    keras.optimizers.RMSprop(lr, rho=rho, epsilon=eps).apply_gradients([(tf.constant([0.5, -1e-3]), w_keras)])
    w_torch = tf.Variable([1.0, -2.0])
    agents.RMSpropTorchLike(lr, rho=rho, epsilon=eps).apply_gradients([(tf.constant([0.5, -1e-3]), w_torch)])
    assert abs(w_torch.numpy()[1] + 2.0) > 5 * abs(w_keras.numpy()[1] + 2.0)


RMSPROP_GRADS = ([0.5, -1e-3], [0.2, 3.0], [-1.0, 1e-4])


def test_rmsprop_tf_like_starts_its_mean_of_squares_at_one():
    """Three steps of ``agents.RMSpropTFLike``: epsilon inside the root, the mean of squares from 1."""
    lr, rho, eps = 0.1, 0.9, 1e-2
    w = tf.Variable([1.0, -2.0])
    opt = agents.RMSpropTFLike(lr, rho=rho, epsilon=eps)
    expected, v = np.array([1.0, -2.0]), np.ones(2)
    for g in RMSPROP_GRADS:
        opt.apply_gradients([(tf.constant(g), w)])
        v = rho * v + (1 - rho) * np.square(g)
        expected = expected - lr * np.asarray(g) / np.sqrt(v + eps)
    np.testing.assert_allclose(w.numpy(), expected, rtol=1e-6)
    opt.build([w])  # building again keeps the state
    np.testing.assert_allclose(opt._velocities[0].numpy(), v, rtol=1e-6)


def test_rmsprop_tf_like_matches_stable_baselines3_where_installed():
    th = pytest.importorskip("torch")
    sb2_compat = pytest.importorskip("stable_baselines3.common.sb2_compat.rmsprop_tf_like")
    w_ref = th.nn.Parameter(th.tensor([1.0, -2.0]))
    ref = sb2_compat.RMSpropTFLike([w_ref], lr=0.01, alpha=0.99, eps=1e-5)
    w = tf.Variable([1.0, -2.0])
    opt = agents.RMSpropTFLike(0.01, rho=0.99, epsilon=1e-5)
    for g in RMSPROP_GRADS:
        w_ref.grad = th.tensor(g)
        ref.step()
        opt.apply_gradients([(tf.constant(g), w)])
    np.testing.assert_allclose(w.numpy(), w_ref.detach().numpy(), rtol=1e-6)


def test_a2c_takes_either_rmsprop_form_and_refuses_others(tmp_path):
    assert isinstance(agents.make("A2C", "CartPole-v1").optimizer, agents.RMSpropTorchLike)
    a2c = agents.make("A2C", "CartPole-v1", rms_prop_form="tf", n_envs=2, n_steps=4, net_arch=(8,))
    assert isinstance(a2c.optimizer, agents.RMSpropTFLike)
    a2c.learn(16)
    loaded = agents.load(a2c.save(tmp_path / "a2c"))
    assert loaded.config.rms_prop_form == "tf" and isinstance(loaded.optimizer, agents.RMSpropTFLike)
    with pytest.raises(ValueError, match=r"rms_prop_form.*'adam'.*'torch', 'tf'"):
        agents.make("A2C", "CartPole-v1", rms_prop_form="adam")


ADAM_GRADS = ([0.5, -1e-6], [0.2, 3.0], [-1.0, 1e-7])


def test_adam_torch_like_adds_epsilon_after_the_bias_correction():
    """Three steps of ``agents.AdamTorchLike`` equal PyTorch's Adam formula in NumPy."""
    lr, b1, b2, eps = 0.1, 0.9, 0.999, 1e-5
    w = tf.Variable([1.0, -2.0])
    opt = agents.AdamTorchLike(lr, epsilon=eps)
    expected, m, v = np.array([1.0, -2.0]), np.zeros(2), np.zeros(2)
    for t, g in enumerate(ADAM_GRADS, start=1):
        opt.apply_gradients([(tf.constant(g), w)])
        m, v = b1 * m + (1 - b1) * np.asarray(g), b2 * v + (1 - b2) * np.square(g)
        expected = expected - lr / (1 - b1**t) * m / (np.sqrt(v / (1 - b2**t)) + eps)
    np.testing.assert_allclose(w.numpy(), expected, rtol=1e-5)
    # Keras's Adam adds eps to sqrt(v) before the bias correction: eps / sqrt(1 - b2) ~ 3e-4 on the first step,
    # which all but stops a coordinate whose gradient is 1e-6
    w_keras, w_torch = tf.Variable([1.0, -2.0]), tf.Variable([1.0, -2.0])
    keras.optimizers.Adam(lr, epsilon=eps).apply_gradients([(tf.constant(ADAM_GRADS[0]), w_keras)])
    agents.AdamTorchLike(lr, epsilon=eps).apply_gradients([(tf.constant(ADAM_GRADS[0]), w_torch)])
    assert abs(w_torch.numpy()[1] + 2.0) > 5 * abs(w_keras.numpy()[1] + 2.0)


def test_adam_torch_like_matches_pytorch_where_installed():
    th = pytest.importorskip("torch")
    w_ref = th.nn.Parameter(th.tensor([1.0, -2.0]))
    ref = th.optim.Adam([w_ref], lr=0.01)
    w = tf.Variable([1.0, -2.0])
    opt = agents.AdamTorchLike(0.01)
    for g in ADAM_GRADS:
        w_ref.grad = th.tensor(g)
        ref.step()
        opt.apply_gradients([(tf.constant(g), w)])
    np.testing.assert_allclose(w.numpy(), w_ref.detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("name, optimizers, torch_epsilon", [
    ("PPO", ("optimizer",), 1e-5), ("REINFORCE", ("optimizer",), 1e-5), ("DQN", ("optimizer",), 1e-8),
    ("SAC", ("actor_optimizer", "critic_optimizer", "alpha_optimizer"), 1e-8),
    ("TD3", ("actor_optimizer", "critic_optimizer"), 1e-8), ("DDPG", ("actor_optimizer", "critic_optimizer"), 1e-8)])
def test_adam_agents_take_either_form(name, optimizers, torch_epsilon, tmp_path):
    env = "CartPole-v1" if name in ("PPO", "REINFORCE", "DQN") else "Pendulum-v1"
    default = agents.make(name, env, net_arch=(8,))
    assert default.config.adam_form == "keras"
    for key in optimizers:
        opt = getattr(default, key)
        assert type(opt) is keras.optimizers.Adam and opt.epsilon == (1e-5 if torch_epsilon == 1e-5 else 1e-7)
    agent = agents.make(name, env, net_arch=(8,), adam_form="torch")
    for key in optimizers:
        assert isinstance(getattr(agent, key), agents.AdamTorchLike) and getattr(agent, key).epsilon == torch_epsilon
    loaded = agents.load(agent.save(tmp_path / name))
    assert loaded.config.adam_form == "torch" and isinstance(getattr(loaded, optimizers[0]), agents.AdamTorchLike)


def test_bad_adam_forms_are_refused():
    with pytest.raises(ValueError, match=r"PPO: invalid adam_form='pytorch'; expected one of 'keras', 'torch'"):
        agents.make("PPO", "CartPole-v1", adam_form="pytorch")
    with pytest.raises(ValueError, match=r"A2C: invalid adam_form='torch'; expected 'keras' \(A2C steps with RMSprop"):
        agents.make("A2C", "CartPole-v1", adam_form="torch")


def test_ornstein_uhlenbeck_step_by_hand_and_against_stable_baselines3():
    from agents.td3 import ornstein_uhlenbeck_step

    rng, noise = np.random.default_rng(3), np.array([[0.2, -0.1]])
    draw = np.random.default_rng(3).standard_normal((1, 2))
    want = noise - 0.15 * noise * 0.01 + 0.5 * 0.1 * draw
    np.testing.assert_allclose(ornstein_uhlenbeck_step(noise, 0.5, rng), want)
    sb3_noise = pytest.importorskip("stable_baselines3.common.noise")
    ref = sb3_noise.OrnsteinUhlenbeckActionNoise(np.zeros(2), 0.5 * np.ones(2))
    np.random.seed(7)  # SB3 draws from NumPy's global generator: the same draws through a RandomState(7)
    ours, legacy = np.zeros(2), np.random.RandomState(7)
    for _ in range(5):
        ours = ornstein_uhlenbeck_step(ours, 0.5, legacy)
        np.testing.assert_allclose(ours.astype(np.float32), ref(), rtol=1e-6)
