"""Generative adversarial network: ``dcgan`` (Radford, Metz & Chintala 2016).

``dcgan_generator`` (latent code -> image: Dense, then batch-normalised stride-2
transposed convolutions) and ``dcgan_discriminator`` (image -> probability of
being real: stride-2 convolutions with LeakyReLU and dropout) are registered
models; :class:`DCGAN` takes both from the registry and trains them against each
other in its own ``train_step`` with two optimizers (``d_optimizer``,
``g_optimizer``) and optional one-sided label smoothing (Salimans et al. 2016).
It logs ``d_loss``, ``g_loss`` and ``d_accuracy`` (0.5 is chance).
"""

from __future__ import annotations

import numpy as np

from zoo.core.checks import check_int, check_number
from zoo.core.naming import HEAD
from zoo.models._lazy import declared_class, keras, keras_class
from zoo.models.autoencoder import conv_up_stack, encoder_network
from zoo.registry import register

__all__ = ["DCGAN"]  # noqa: F822  (classes from __getattr__)

_PAPER = "Radford, Metz & Chintala 2016, Unsupervised representation learning with deep convolutional GANs"


def _generator(latent_dim=16, image_shape=(8, 8, 1), filters=(32, 64), output_activation="sigmoid"):
    """Latent code (B, latent_dim) -> image (B, *image_shape) in [0, 1] (sigmoid) or [-1, 1] (tanh)."""
    _check_image(image_shape, filters, "dcgan_generator")
    z = keras.Input(shape=(latent_dim,), name="latent")
    x = conv_up_stack(z, image_shape, filters, batch_norm=True, output_activation=output_activation)
    return keras.Model(z, x, name="generator")


def _discriminator(input_shape=(8, 8, 1), filters=(32, 64), hidden_units=128, dropout=0.0):
    """Image -> probability that it is real: strided convolutions, a hidden layer, a sigmoid ``predictions``."""
    _check_image(input_shape, filters, "dcgan_discriminator")
    features = encoder_network(input_shape, hidden_units, kind="conv", filters=filters, heads=("hidden",),
                               activation="leaky_relu", dropout=dropout, head_activation="leaky_relu",
                               name="features")
    images = keras.Input(shape=input_shape, name="images")
    p = keras.layers.Dense(1, activation="sigmoid", name=HEAD)(features(images))
    return keras.Model(images, p, name="discriminator")


def _check_image(shape, filters, name):
    step = 2 ** len(filters)
    if len(shape) != 3 or shape[0] % step or shape[1] % step:
        raise ValueError(
            f"{name}: invalid image shape {tuple(shape)!r}; expected (height, width, channels) with height and "
            f"width divisible by {step} (2 ** len(filters)={len(filters)})"
        )


class _DCGAN:  # + keras.Model: the class DCGAN, made on first use (zoo.models._lazy)
    """Generator and discriminator from the registry, trained adversarially. ``self(z)`` = generator(z)."""

    def __init__(self, latent_dim=16, image_shape=(8, 8, 1), generator_filters=(32, 64),
                 discriminator_filters=(32, 64), dropout=0.0, label_smoothing=0.0, seed=None, **kwargs):
        import zoo

        check_number("label_smoothing", label_smoothing, low=0, high=0.5, high_open=True, owner="dcgan")
        check_int("latent_dim", latent_dim, minimum=1, owner="dcgan")
        kwargs.setdefault("name", "dcgan")
        super().__init__(**kwargs)
        self._args = dict(latent_dim=latent_dim, image_shape=tuple(image_shape),
                          generator_filters=tuple(generator_filters),
                          discriminator_filters=tuple(discriminator_filters), dropout=dropout,
                          label_smoothing=float(label_smoothing), seed=seed)
        self.latent_dim = latent_dim
        self.label_smoothing = float(label_smoothing)
        self.generator = zoo.get("dcgan_generator", latent_dim=latent_dim, image_shape=tuple(image_shape),
                                 filters=tuple(generator_filters))
        self.discriminator = zoo.get("dcgan_discriminator", input_shape=tuple(image_shape),
                                     filters=tuple(discriminator_filters), dropout=dropout)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.trackers = {n: keras.metrics.Mean(name=n) for n in ("d_loss", "g_loss", "d_accuracy")}
        self.built = True

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, **self._args}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def call(self, z, training=None):
        return self.generator(z, training=training)

    def compile(self, optimizer="adam", d_optimizer=None, g_optimizer=None, loss=None, **kwargs):
        """``optimizer`` is the generator's; the discriminator gets ``d_optimizer`` or a copy of it.

        ``loss`` is ignored (the adversarial losses are fixed); it is accepted so that a
        recipe compiles this model like any other.
        """
        super().compile(optimizer=g_optimizer or optimizer, **kwargs)
        self.g_optimizer = self.optimizer
        if d_optimizer is None:
            d_optimizer = self.optimizer.__class__.from_config(self.optimizer.get_config())
        self.d_optimizer = keras.optimizers.get(d_optimizer)

    def get_compile_config(self):
        config = super().get_compile_config()
        if config is not None:
            config["d_optimizer"] = keras.saving.serialize_keras_object(self.d_optimizer)
        return config

    def compile_from_config(self, config):
        self.compile(**keras.saving.deserialize_keras_object(config))
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)

    @property
    def metrics(self):
        return list(self.trackers.values())

    def _latent(self, batch):
        return keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)

    def train_step(self, data):
        import tensorflow as tf

        ops = keras.ops
        real = data[0] if isinstance(data, (tuple, list)) else data
        batch = ops.shape(real)[0]
        bce = keras.losses.binary_crossentropy
        real_target = ops.full((batch, 1), 1.0 - self.label_smoothing)
        fake = self.generator(self._latent(batch), training=True)
        with tf.GradientTape() as tape:
            p_real = self.discriminator(real, training=True)
            p_fake = self.discriminator(fake, training=True)
            d_loss = ops.mean(bce(real_target, p_real)) + ops.mean(bce(ops.zeros((batch, 1)), p_fake))
        d_vars = self.discriminator.trainable_weights
        self.d_optimizer.apply(tape.gradient(d_loss, d_vars), d_vars)

        with tf.GradientTape() as tape:
            p_gen = self.discriminator(self.generator(self._latent(batch), training=True), training=True)
            g_loss = ops.mean(bce(ops.ones((batch, 1)), p_gen))
        g_vars = self.generator.trainable_weights
        self.g_optimizer.apply(tape.gradient(g_loss, g_vars), g_vars)

        correct = ops.concatenate([ops.cast(p_real > 0.5, "float32"), ops.cast(p_fake < 0.5, "float32")], axis=0)
        for name, value in (("d_loss", d_loss), ("g_loss", g_loss), ("d_accuracy", ops.mean(correct))):
            self.trackers[name].update_state(value)
        return {n: m.result() for n, m in self.trackers.items()}

    def generate(self, n, seed=None):
        """``n`` images from latent codes drawn with ``seed`` (numpy, generator in inference mode)."""
        check_int("n", n, minimum=1, owner="dcgan")
        z = np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype("float32")
        return self.generator.predict(z, batch_size=256, verbose=0)


_new_dcgan = keras_class(__name__, "DCGAN", _DCGAN)


def __getattr__(attr):  # the Keras classes, made on first use
    return declared_class(__name__, attr)


def _latent_example(model, batch, rng):
    """Registry example: latent codes for ``model(z)``, real-looking images for ``train_on_batch``."""
    z = rng.standard_normal((batch, model.latent_dim)).astype("float32")
    images = rng.uniform(0, 1, size=(batch, *model._args["image_shape"])).astype("float32")
    return z, images, images


def _generator_example(model, batch, rng):
    z = rng.standard_normal((batch, *model.input_shape[1:])).astype("float32")
    return z, rng.uniform(0, 1, size=(batch, *model.output_shape[1:])).astype("float32")


def _discriminator_example(model, batch, rng):
    images = rng.uniform(0, 1, size=(batch, *model.input_shape[1:])).astype("float32")
    return images, rng.integers(0, 2, size=(batch, 1)).astype("float32")  # 1 = real


_GAN_RECIPE = dict(data="digits", optimizer="adam", learning_rate=1e-3, loss="binary_crossentropy",
                   epochs=100, batch_size=64)


@register(family="gan", task="generation", builder=_generator, paper=_PAPER, params=38_529,
          recipe=dict(_GAN_RECIPE, loss="mse"), example=_generator_example,
          input_range="N(0, 1) latent codes")
def dcgan_generator():
    """DCGAN generator: latent code -> Dense -> batch-normalised Conv2DTranspose stack -> image."""
    return {}


@register(family="gan", task="classification", builder=_discriminator, paper=_PAPER, params=51_841,
          recipe=_GAN_RECIPE, example=_discriminator_example, input_range="[0, 1]", min_input_shape=(4, 4, 1))
def dcgan_discriminator():
    """DCGAN discriminator: strided Conv2D + LeakyReLU + dropout -> probability of being real."""
    return {}


@register(family="gan", task="generation", builder=_new_dcgan, paper=_PAPER, params=90_370, recipe=_GAN_RECIPE,
          example=_latent_example, input_range="N(0, 1) latent codes")
def dcgan():
    """DCGAN: registry generator and discriminator, own train_step, two optimizers, label smoothing."""
    return {}
