"""``ortho_init`` (stable-baselines3's initialisation of PPO and A2C): orthogonal kernels with SB3's gains."""

import keras
import numpy as np
import pytest
from agent_checks import first_kernels_by_seed

import agents


def dense_layers(net):
    return [layer for layer in net.layers if isinstance(layer, keras.layers.Dense)]


def assert_orthogonal(kernel, gain):
    """Columns (or rows, whichever are fewer) orthonormal up to ``gain``: ``K^T K = gain^2 I``."""
    k = kernel if kernel.shape[0] >= kernel.shape[1] else kernel.T
    np.testing.assert_allclose(k.T @ k, gain**2 * np.eye(k.shape[1]), atol=1e-5 * max(gain**2, 1))


@pytest.mark.parametrize("name", ["PPO", "A2C"])
def test_kernels_are_orthogonal_with_sb3_gains_and_biases_zero(name):
    agent = agents.make(name, "CartPole-v1", seed=0, net_arch=(64, 64), use_rl_zoo=False)
    assert agent.config.ortho_init  # stable-baselines3's default
    for key, head_gain in (("actor", 0.01), ("critic", 1.0)):
        layers = dense_layers(getattr(agent.model, key))
        for layer in layers:
            gain = head_gain if layer is layers[-1] else np.sqrt(2)
            assert_orthogonal(layer.kernel.numpy(), gain)
            np.testing.assert_array_equal(layer.bias.numpy(), 0.0)


def test_seeded_and_off_gives_keras_init():
    one, two, other, plain = first_kernels_by_seed("PPO", "actor", "ortho_init")
    np.testing.assert_array_equal(one, two)
    assert not np.array_equal(one, other)
    head = dense_layers(plain.model.actor)[-1].kernel.numpy()
    assert np.abs(head).max() > 0.05  # Glorot-uniform, not the 0.01-gain head


def test_rl_zoo_turns_it_off_where_rl_zoo_does():
    assert not agents.make("A2C", "Pendulum-v1").config.ortho_init
    assert agents.make("A2C", "CartPole-v1").config.ortho_init


def test_image_policy_initialises_the_nature_cnn():
    from image_envs import ImageIdentityEnv

    agent = agents.make("PPO", ImageIdentityEnv(), policy="cnn", seed=0, n_steps=8, batch_size=8, use_rl_zoo=False)
    extractor = next(layer for layer in agent.model.actor.layers if isinstance(layer, keras.Model))
    convs = [layer for layer in extractor.layers if isinstance(layer, keras.layers.Conv2D)]
    assert convs
    for conv in convs:
        k = conv.kernel.numpy()
        assert_orthogonal(k.reshape(-1, k.shape[-1]), np.sqrt(2))
