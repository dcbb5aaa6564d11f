"""Policies: what ``policy=`` and ``policy_kwargs=`` build, stable-baselines3's MlpPolicy and CnnPolicy.

- ``"mlp"`` (``"MlpPolicy"``): zoo ``mlp`` networks on flattened observations; the env
  loop acts with the NumPy forward pass (``agents.numpy_forward``), the fast path.
- ``"cnn"`` (``"CnnPolicy"``): the Nature DQN CNN (Mnih et al. 2015) as the feature
  extractor, then the algorithm's heads (``net_arch`` dense layers and the output layer).
- any image model of the zoo (``"resnet18"``, ``"mobilenet_v2"``, ``"simple_cnn"``, see
  ``image_models()``): ``zoo.get(name, include_top=False, pooling="avg", **backbone kwargs)``
  as the extractor; the remaining ``policy_kwargs`` go to its builder.

Image networks take raw observations in the env's layout and dtype: uint8 frames are
scaled to [0, 1] inside the model, a frame stack ``(stack, H, W)`` or ``(stack, H, W, C)``
(gymnasium's ``FrameStackObservation``) is moved into the channels, so
``AtariPreprocessing`` + ``FrameStackObservation(env, 4)`` is passed as it is. The
buffers keep observations in that shape and dtype, and acting runs a compiled
``tf.function`` (``KerasForward``).
"""

from __future__ import annotations

import difflib
import json

import gymnasium as gym
import keras
import numpy as np

from agents.networks import dueling_head, dueling_q_network, mlp
from agents.numpy_forward import KerasForward, NumpyForward
from zoo.core.checks import check_bool, check_int, check_str, check_type, fail

__all__ = ["PolicyNetworks", "KerasForward", "image_models", "image_layout", "nature_cnn", "unique", "unique_variables",
           "MLP_NAMES", "CNN_NAMES", "NATURE_CNN_MIN_SIZE"]

MLP_NAMES = ("mlp", "MlpPolicy")
CNN_NAMES = ("cnn", "CnnPolicy")
NATURE_CNN_MIN_SIZE = 36
"""The smallest side the Nature CNN takes (8x8 stride 4, 4x4 stride 2, 3x3 stride 1, no padding)."""

#: ``policy_kwargs`` of every image policy (both True or False).
_IMAGE_KWARGS = ("share_features_extractor", "normalize_images")
#: Arguments of a zoo backbone that the agent sets itself.
_FIXED_BACKBONE_ARGS = ("input_shape", "include_top", "num_classes", "classifier_activation", "features", "compile")


def image_models() -> list[str]:
    """Zoo models usable as a policy's backbone: image classifiers with a headless form (``include_top=False``)."""
    import zoo

    names = []
    for name in zoo.list_models(task="classification"):
        meta = zoo.info(name)
        shape = meta["min_input_shape"]
        if shape is not None and len(shape) == 3 and {"include_top", "pooling"} <= set(meta["arguments"]):
            names.append(name)
    return names


def image_layout(shape):
    """How an observation of ``shape`` becomes an ``(H, W, C)`` image, or None when it is not an image.

    ``(H, W)``: grayscale; ``(H, W, C)`` with ``C`` the smallest side: channels last;
    ``(S, H, W)`` with ``S < W``: a grayscale frame stack (or channels first);
    ``(S, H, W, C)``: a frame stack of colour frames. Returns ``(kind, (H, W, C))``.
    """
    shape = tuple(int(s) for s in shape)
    if len(shape) == 2:
        return "hw", (shape[0], shape[1], 1)
    if len(shape) == 3:
        if shape[0] < shape[2]:
            return "chw", (shape[1], shape[2], shape[0])
        return "hwc", shape
    if len(shape) == 4:
        return "shwc", (shape[1], shape[2], shape[0] * shape[3])
    return None


def _to_image(x, kind, hwc, scale):
    """Keras layers turning raw observations into float ``(H, W, C)`` images (scaled by ``scale``)."""
    layers = keras.layers
    x = layers.Rescaling(scale, name="scale")(x) if scale != 1.0 else layers.Activation("linear", name="scale")(x)
    if kind == "hw":
        x = layers.Reshape(hwc, name="channels")(x)
    elif kind == "chw":
        x = layers.Permute((2, 3, 1), name="channels")(x)
    elif kind == "shwc":
        x = layers.Permute((2, 3, 1, 4), name="stack_last")(x)
        x = layers.Reshape(hwc, name="channels")(x)
    return x


def nature_cnn(x, features_dim=512):
    """The Nature DQN CNN on images ``x``: conv 32 8x8/4, 64 4x4/2, 64 3x3/1, dense ``features_dim``, ReLU."""
    layers = keras.layers
    for i, (filters, kernel, stride) in enumerate(((32, 8, 4), (64, 4, 2), (64, 3, 1)), 1):
        x = layers.Conv2D(filters, kernel, strides=stride, activation="relu", name=f"conv{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    return layers.Dense(features_dim, activation="relu", name="features")(x)


def unique(variables):
    """``variables`` without repeats, in order (networks may share a feature extractor)."""
    seen, out = set(), []
    for v in variables:
        if id(v) not in seen:
            seen.add(id(v))
            out.append(v)
    return out


def unique_variables(*models):
    """The trainable variables of ``models``, each once."""
    return unique(v for model in models for v in model.trainable_variables)


def _json_value(value):
    """``value`` with lists turned into tuples, if it is JSON data (what ``config.json`` can hold), else None."""
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return None
    if isinstance(value, list):
        return tuple(_json_value(v) for v in value)
    return value


class PolicyNetworks:
    """``policy=`` and ``policy_kwargs=`` resolved: builds every network of an agent on raw observations.

    ``share`` is the agent's default for ``share_features_extractor`` (``None``: the
    agent has no actor and critic to share one, as DQN). Everything about the names
    and keys is checked here, before the env is made; the observation space in ``bind``.
    """

    def __init__(self, policy, policy_kwargs, agent: str, share: bool | None):
        check_str("policy", policy, agent, accepted="a string: 'mlp', 'cnn' or a zoo image model name")
        check_type("policy_kwargs", policy_kwargs, dict, "a dict of keyword arguments", agent, allow_none=True)
        self.agent, kwargs = agent, dict(policy_kwargs or {})
        if policy in MLP_NAMES:
            self.name, self.image = "mlp", False
        elif policy in CNN_NAMES:
            self.name, self.image = "cnn", True
        else:
            self.name, self.image = self._check_zoo_name(policy), True
        self.accepted = self._accepted(share)
        for key, value in kwargs.items():
            if key not in self.accepted:
                close = difflib.get_close_matches(str(key), self.accepted, n=2)
                hint = f" (did you mean {', '.join(close)}?)" if close else ""
                raise ValueError(f"{agent}: invalid policy_kwargs={policy_kwargs!r}: unknown key {key!r}{hint} for "
                                 f"policy={self.name!r}; accepted keys: {self._describe_accepted()}")
            if _json_value(value) is None and value is not None:
                fail(f"policy_kwargs[{key!r}]", value, "JSON data (None, a bool, number, string, list or dict), "
                     "so that save() can write it", agent, error=TypeError)
        self.kwargs = json.loads(json.dumps(kwargs))  # as config.json holds them (tuples become lists)
        for key in _IMAGE_KWARGS:
            if key in kwargs:
                check_bool(f"policy_kwargs[{key!r}]", kwargs[key], agent)
        if "features_dim" in kwargs:
            check_int("policy_kwargs['features_dim']", kwargs["features_dim"], minimum=1, owner=agent)
        self.share = bool(kwargs.get("share_features_extractor", share))
        self.normalize_images = bool(kwargs.get("normalize_images", True))
        self.backbone_kwargs = {k: _json_value(v) for k, v in kwargs.items()
                                if k not in _IMAGE_KWARGS and k != "features_dim"}
        if self.backbone_kwargs.get("pooling", "avg") not in ("avg", "max"):
            fail("policy_kwargs['pooling']", kwargs["pooling"], "'avg' or 'max' (the features are a vector)", agent)
        self.obs_shape, self.obs_dtype = None, np.dtype(np.float32)

    # ------------------------------------------------------------------ checks

    def _check_zoo_name(self, policy):
        import zoo

        images = image_models()
        if policy in images:
            return policy
        accepted = (f"'mlp' ('MlpPolicy'), 'cnn' ('CnnPolicy') or one of the zoo's {len(images)} image models "
                    f"(agents.policies.image_models(): {', '.join(images)})")
        if policy in zoo.list_models():
            meta = zoo.info(policy)
            fail("policy", policy, f"an image model; zoo model {policy!r} is not one (task {meta['task']!r}, "
                 f"min_input_shape {meta['min_input_shape']}). Accepted: {accepted}", self.agent)
        close = difflib.get_close_matches(policy, [*MLP_NAMES, *CNN_NAMES, *images], n=3, cutoff=0.6)
        hint = f"did you mean {', '.join(map(repr, close))}? " if close else ""
        fail("policy", policy, f"a known policy ({hint}accepted: {accepted})", self.agent)

    def _accepted(self, share):
        if not self.image:
            return []
        keys = [k for k in _IMAGE_KWARGS if k != "share_features_extractor" or share is not None]
        if self.name == "cnn":
            return keys + ["features_dim"]
        import zoo

        return keys + [a for a in zoo.info(self.name)["arguments"] if a not in _FIXED_BACKBONE_ARGS]

    def _describe_accepted(self):
        if not self.accepted:
            return "none: policy='mlp' takes no policy_kwargs (net_arch and activation are hyperparameters)"
        return ", ".join(self.accepted)

    def bind(self, space, normalize_obs: bool):
        """Check the observation space against the policy; set ``obs_shape`` and ``obs_dtype``."""
        if not self.image:
            self.obs_shape = (int(np.prod(space.shape)),)
            return self
        layout = image_layout(space.shape) if isinstance(space, gym.spaces.Box) else None
        if layout is None:
            fail("policy", self.name, f"'mlp' for the observation space {space}: policy={self.name!r} needs image "
                 "observations, a Box of shape (H, W, C), (H, W), (stack, H, W) or (stack, H, W, C) (e.g. "
                 "AtariPreprocessing + FrameStackObservation)", self.agent)
        if normalize_obs:
            fail("normalize_obs", True, f"False with policy={self.name!r}: image observations are not normalised "
                 "by running statistics (uint8 frames are scaled to [0, 1] inside the model)", self.agent)
        self.layout, self.hwc = layout
        self._check_size(space)
        self.obs_shape, self.obs_dtype = tuple(space.shape), np.dtype(space.dtype)
        return self

    def _check_size(self, space):
        h, w, c = self.hwc
        if self.name == "cnn":
            minimum, what = (NATURE_CNN_MIN_SIZE, NATURE_CNN_MIN_SIZE, 1), "the Nature CNN"
        else:
            import zoo

            minimum, what = tuple(zoo.info(self.name)["min_input_shape"]), f"zoo.info({self.name!r})['min_input_shape']"
        if h < minimum[0] or w < minimum[1] or c < minimum[2]:
            size = (84, 84) if self.name == "cnn" else (max(h, minimum[0]), max(w, minimum[1]))
            fail("policy", self.name, f"images of at least {minimum[0]}x{minimum[1]} with {minimum[2]}+ channel(s) "
                 f"({what}: {minimum}); the observations {tuple(space.shape)} are {h}x{w} with {c} channel(s). "
                 f"Resize them, e.g. gymnasium.wrappers.ResizeObservation(env, {size}) before any frame stack, "
                 f"or AtariPreprocessing(env, screen_size={size[0]})", self.agent)

    def default_hyperparams(self, image_net_arch) -> dict:
        """Hyperparameter defaults of image policies: the agent's ``image_net_arch`` (unless None) and
        ``jit_compile=False`` (XLA's CPU convolutions are slow: one PPO update on 84x84 Pong frames took
        170 s under XLA against 2.9 s without; pass ``jit_compile=True`` on a GPU)."""
        if not self.image:
            return {}
        return {"jit_compile": False, **({} if image_net_arch is None else {"net_arch": tuple(image_net_arch)})}

    # ------------------------------------------------------------------ networks

    def extractor(self, name):
        """A feature extractor ``keras.Model``: raw observations -> a feature vector (``None`` for ``mlp``)."""
        if not self.image:
            return None
        inputs = keras.Input(shape=self.obs_shape, name="observations")
        scale = 1.0 / 255.0 if self.obs_dtype == np.uint8 and self.normalize_images else 1.0
        x = _to_image(inputs, self.layout, self.hwc, scale)
        if self.name == "cnn":
            x = nature_cnn(x, int(self.kwargs.get("features_dim", 512)))
        else:
            import zoo

            args = {"pooling": "avg", **self.backbone_kwargs}
            x = zoo.get(self.name, input_shape=self.hwc, include_top=False, **args)(x)
        return keras.Model(inputs, x, name=name)

    def _trunk(self, hidden, activation, name, extractor=None, extra_input=None):
        """Observations (and ``extra_input``) -> features -> ``hidden`` dense layers: ``(inputs, tensor)``."""
        extractor = extractor or self.extractor(f"{name}_features")
        inputs = [keras.Input(shape=self.obs_shape, name="observations")]
        x = extractor(inputs[0])
        if extra_input is not None:
            inputs.append(keras.Input(shape=(extra_input,), name="actions"))
            x = keras.layers.Concatenate(name="features_actions")([x, inputs[1]])
        for i, units in enumerate(hidden):
            x = keras.layers.Dense(int(units), activation=activation, name=f"dense_{i}")(x)
        return inputs, x

    def net(self, outputs, hidden, activation, name, extractor=None, output_activation=None):
        """A network: observations -> ``outputs`` linear units (then ``output_activation``)."""
        if not self.image:
            return mlp(self.obs_shape[0], outputs, hidden, activation, name=name, output_activation=output_activation)
        inputs, x = self._trunk(hidden, activation, name, extractor)
        x = keras.layers.Dense(int(outputs), name="predictions")(x)
        if output_activation is not None:
            x = keras.layers.Activation(output_activation, name="squash")(x)
        return keras.Model(inputs[0], x, name=name)

    def dueling(self, n_actions, hidden, activation, name):
        """A dueling Q-network (``agents.networks.dueling_q_network``) on this policy's features."""
        if not self.image:
            return dueling_q_network(self.obs_shape[0], n_actions, hidden, activation, name=name)
        inputs, x = self._trunk(hidden, activation, name)
        return dueling_head(keras.Model(inputs[0], x, name=f"{name}_trunk"), n_actions, name)

    def critic(self, action_dim, hidden, activation, name, extractor=None, stop_gradient=False):
        """``Q(s, a)``: a zoo ``mlp`` on ``[s, a]`` (vectors), or ``[images, actions]`` -> features + actions -> Q.

        ``stop_gradient``: the critic's loss does not train the (shared) extractor, as in
        stable-baselines3 with ``share_features_extractor=True`` (the actor's loss does).
        """
        if not self.image:
            return mlp(self.obs_shape[0] + action_dim, 1, hidden, activation, name=name)
        if stop_gradient and extractor is not None:
            extractor = _frozen_view(extractor)
        inputs, x = self._trunk(hidden, activation, name, extractor, extra_input=action_dim)
        return keras.Model(inputs, keras.layers.Dense(1, name="predictions")(x), name=name)

    def actor_critic_extractors(self, online: bool = True):
        """``(actor's, critics')`` extractors of SAC/TD3/DDPG (``None``: each network builds its own).

        Online critics share one extractor (the actor's with ``share_features_extractor``), as
        stable-baselines3's ``ContinuousCritic``; target networks each get their own copy, so
        that every target weight is Polyak-updated once per step.
        """
        if not self.image or not online:
            return None, None
        actor = self.extractor("actor_features")
        return actor, (actor if self.share else self.extractor("critic_features"))

    def forward(self, model):
        """The env loop's forward pass of ``model``: NumPy for MLPs, a compiled ``tf.function`` for images."""
        return KerasForward(model) if self.image else NumpyForward(model)


def _frozen_view(extractor):
    """``extractor`` behind ``stop_gradient``: the same weights, no gradient flows back into them."""
    inputs = keras.Input(shape=extractor.input_shape[1:], name="observations")
    x = keras.ops.stop_gradient(extractor(inputs))
    return keras.Model(inputs, x, name=f"{extractor.name}_frozen")
