"""The initialisations stable-baselines3's agents start from, applied to dlzoo's Keras networks.

- ``orthogonal_init``: SB3's ``ortho_init`` of the rollout agents (PPO, A2C): orthogonal kernels
  with ``ORTHO_GAINS``, zero biases.
- ``torch_default_init``: PyTorch's own ``nn.Linear``/``nn.Conv2d`` initialisation, which SB3's
  replay agents (DQN, SAC, TD3, DDPG) keep: kernels and biases uniform in ``±1/sqrt(fan_in)``.
  Keras's default (Glorot-uniform, ``±sqrt(6 / (fan_in + fan_out))``, zero biases) is narrower on
  a first layer from a few inputs, sqrt(3) times wider between square hidden layers, and has no
  bias spread; on DQN Acrobot-v1 it cost ~12 points of return over five seeds.

A zoo image backbone keeps its own initialisation (and any pretrained weights); a Nature CNN is
initialised with the rest. Both are seeded: the same ``seed`` gives the same weights.
"""

from __future__ import annotations

import keras
import numpy as np

__all__ = ["ORTHO_GAINS", "orthogonal_init", "torch_default_init", "init_layers"]

#: stable-baselines3's ``ActorCriticPolicy`` gains: hidden (and feature) layers, then each network's head
ORTHO_GAINS = {"hidden": 2**0.5, "actor": 0.01, "critic": 1.0}

_INITIALISED = (keras.layers.Dense, keras.layers.Conv2D)


def init_layers(model, keep=()):
    """The Dense and Conv2D layers of ``model`` in order, nested models (extractors, trunks) included,
    except nested models named in ``keep`` (zoo backbones, which keep their weights)."""
    found = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            if layer.name not in keep:
                found += init_layers(layer, keep)
        elif isinstance(layer, _INITIALISED):
            found.append(layer)
    return found


def orthogonal_init(networks: dict, seed: int, init_extractor: bool = False):
    """Orthogonal kernels and zero biases in the Dense layers of ``networks["actor"]`` and
    ``networks["critic"]`` (and the Conv2D layers of a Nature CNN with ``init_extractor``), with
    ``ORTHO_GAINS``, as stable-baselines3's ``ortho_init``.
    """
    done = set()
    for key in ("actor", "critic"):
        if key not in networks:
            continue
        layers = []
        for layer in networks[key].layers:
            inner = layer.layers if isinstance(layer, keras.Model) else [layer]  # a feature extractor
            if isinstance(layer, keras.Model) and not init_extractor:
                continue
            layers += [x for x in inner if isinstance(x, _INITIALISED)]
        for i, layer in enumerate(layers):
            if id(layer) in done:  # a shared feature extractor is initialised once
                continue
            done.add(id(layer))
            gain = ORTHO_GAINS[key] if layer.name == "predictions" else ORTHO_GAINS["hidden"]
            init = keras.initializers.Orthogonal(gain=gain, seed=seed * 1000 + 100 * (key == "critic") + i)
            layer.kernel.assign(init(layer.kernel.shape))
            if layer.use_bias:
                layer.bias.assign(keras.ops.zeros(layer.bias.shape))


def torch_default_init(models, seed: int, keep=()):
    """Redraw every Dense/Conv2D kernel and bias of ``models`` uniform in ``±1/sqrt(fan_in)``, as
    PyTorch's ``reset_parameters`` (``kaiming_uniform_(a=sqrt(5))`` is that bound), in model order.

    ``fan_in`` is a Dense kernel's input size, or ``height * width * in_channels`` of a Conv2D's.
    A layer shared by two models is drawn once; ``keep`` names nested models left as they are.
    The draws come from their own generator, so the agent's exploration streams do not move.
    """
    rng = np.random.default_rng([int(seed), 0x7041])
    done = set()
    for model in models:
        for layer in init_layers(model, keep):
            if id(layer) in done:
                continue
            done.add(id(layer))
            shape = tuple(layer.kernel.shape)
            bound = 1.0 / np.sqrt(max(int(np.prod(shape[:-1])), 1))
            layer.kernel.assign(rng.uniform(-bound, bound, shape).astype(layer.kernel.dtype))
            if layer.use_bias:
                layer.bias.assign(rng.uniform(-bound, bound, tuple(layer.bias.shape)).astype(layer.bias.dtype))
