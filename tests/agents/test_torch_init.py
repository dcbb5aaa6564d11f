"""``torch_init`` (the replay agents' start, as stable-baselines3's): PyTorch's ``±1/sqrt(fan_in)``."""

import keras
import numpy as np
import pytest
from agent_checks import first_kernels_by_seed

import agents
from agents.initializers import init_layers, torch_default_init


def bound(layer):
    return 1.0 / np.sqrt(np.prod(layer.kernel.shape[:-1]))


def assert_torch_uniform(layer):
    """Kernel and bias inside ``±1/sqrt(fan_in)``, and spread over it as a uniform draw is (not Glorot's)."""
    b = bound(layer)
    for values in (layer.kernel.numpy(), layer.bias.numpy()):
        assert np.abs(values).max() <= b * (1 + 1e-6)  # float32 rounding of the bound itself
        if values.size >= 256:  # enough draws to see the spread: the std of U(-b, b) is b / sqrt(3)
            assert np.std(values) == pytest.approx(b / np.sqrt(3), rel=0.15)
            assert np.abs(values).max() > 0.9 * b


@pytest.mark.parametrize("name,env,keys", [
    ("DQN", "CartPole-v1", ("q",)),
    ("SAC", "Pendulum-v1", ("actor", "critic_0", "critic_1")),
    ("TD3", "Pendulum-v1", ("actor", "critic_0", "critic_1")),
    ("DDPG", "Pendulum-v1", ("actor", "critic_0")),
])
def test_every_layer_is_drawn_as_pytorch_and_the_targets_copy_it(name, env, keys):
    agent = agents.make(name, env, seed=0, use_rl_zoo=False)
    assert agent.config.torch_init  # the default
    for key in keys:
        layers = init_layers(getattr(agent.model, key))
        assert len(layers) == 3  # two hidden layers and the head
        for layer in layers:
            assert_torch_uniform(layer)
        assert np.abs(layers[-1].bias.numpy()).max() > 0  # biases drawn too, not zeros
        target = getattr(agent.model, "q_target" if key == "q" else f"target_{key}", None)
        if target is not None:
            for a, b in zip(getattr(agent.model, key).get_weights(), target.get_weights()):
                np.testing.assert_array_equal(a, b)


def test_bound_is_pytorch_nn_linear_bound():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    linear = torch.nn.Linear(64, 512)  # PyTorch's own reset_parameters
    layer = keras.layers.Dense(512)
    layer.build((None, 64))
    torch_default_init([keras.Sequential([keras.Input((64,)), layer])], seed=0)
    ours, theirs = layer.kernel.numpy(), linear.weight.detach().numpy().T
    assert ours.shape == theirs.shape
    # the same distribution, quantile by quantile (to ~4 standard errors of 32768 draws each; Glorot's
    # quartiles on this layer are 0.09 bound away)
    for q in (0.01, 0.25, 0.5, 0.75, 0.99):
        assert np.quantile(ours, q) == pytest.approx(np.quantile(theirs, q), abs=0.03 * bound(layer))
    assert max(np.abs(theirs).max(), np.abs(ours).max()) <= bound(layer) * (1 + 1e-6)


def test_seeded_apart_from_exploration_and_off_gives_keras_init():
    one, two, other, plain = first_kernels_by_seed("DQN", "q", "torch_init")
    np.testing.assert_array_equal(one, two)
    assert not np.array_equal(one, other)
    first, hidden = init_layers(plain.model.q)[:2]  # Glorot's sqrt(6 / (fan_in + fan_out)), not 1 / sqrt(fan_in):
    assert np.abs(first.kernel.numpy()).max() < 0.7 * bound(first)  # narrower on 4 inputs to 64 units,
    assert np.abs(hidden.kernel.numpy()).max() > 1.5 * bound(hidden)  # wider between square hidden layers
    np.testing.assert_array_equal(first.bias.numpy(), 0.0)
    # the draws have their own generator: the agent's exploration stream is where it was
    torch_start = agents.make("DQN", "CartPole-v1", seed=3, use_rl_zoo=False)
    assert torch_start.np_rng.bit_generator.state == plain.np_rng.bit_generator.state


def test_nature_cnn_is_drawn_and_a_zoo_backbone_keeps_its_weights():
    from image_envs import ImageIdentityEnv

    cnn = agents.make("DQN", ImageIdentityEnv(), policy="cnn", seed=0, use_rl_zoo=False,
                      policy_kwargs=dict(features_dim=32))
    convs = [layer for layer in init_layers(cnn.model.q) if isinstance(layer, keras.layers.Conv2D)]
    assert len(convs) == 3
    for conv in convs:  # fan_in of a convolution: kernel height x width x input channels
        assert_torch_uniform(conv)

    def backbone(torch_init):
        agent = agents.make("SAC", ImageIdentityEnv(shape=(16, 16, 3), continuous=True), policy="simple_cnn", seed=0,
                            use_rl_zoo=False, torch_init=torch_init, policy_kwargs=dict(filters=(8, 16)))
        return agent.model.actor.get_layer("actor_features").get_layer("simple_cnn"), agent.model.actor

    kept, actor = backbone(True)
    keras_init, _ = backbone(False)
    for a, b in zip(kept.get_weights(), keras_init.get_weights()):
        np.testing.assert_array_equal(a, b)  # the zoo model's own initialisation
    assert_torch_uniform(actor.get_layer("predictions"))
