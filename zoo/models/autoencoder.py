"""Autoencoders: dense and convolutional ``autoencoder``, ``denoising_autoencoder`` and ``vae``.

- :class:`Autoencoder` (``autoencoder``, ``conv_autoencoder``, ``denoising_autoencoder``):
  ``encoder`` (x -> code) and ``decoder`` (code -> x) are nested models reachable
  separately (``model.encoder``, ``model.decoder``); the convolutional decoder
  upsamples with transposed convolutions. ``noise_stddev > 0`` adds Gaussian noise
  to the input in training only (Vincent et al. 2008): the model learns to denoise.
- :class:`VAE` (Kingma & Welling 2014): a ``keras.Model`` subclass with its own
  ``train_step``; the encoder gives a mean and a log-variance, the ``Sampling``
  layer draws the code by reparameterisation, and the loss is reconstruction
  (binary cross-entropy summed over pixels) + ``beta`` x KL, reported separately.
  ``encode``, ``decode`` and ``sample(n)``.

Inputs are in [0, 1] (``zoo.data.load("digits")``), outputs end in a sigmoid.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from zoo.core.checks import check_choice, check_int, check_number, fail
from zoo.models._lazy import declared_class, keras, keras_class
from zoo.registry import register

__all__ = ["Autoencoder", "VAE", "encoder_network", "decoder_network", "conv_up_stack"]  # noqa: F822  (classes from __getattr__)

KINDS = ("dense", "conv")


def _check(model_name, input_shape, kind, latent_dim, hidden_units, filters):
    check_choice("kind", kind, KINDS, owner=model_name)
    check_int("latent_dim", latent_dim, minimum=1, owner=model_name)
    units = hidden_units if kind == "dense" else filters
    arg = "hidden_units" if kind == "dense" else "filters"
    if not all(isinstance(u, numbers.Integral) and u > 0 for u in units):
        fail(arg, units, "a tuple of positive integers", owner=model_name)
    if kind == "conv":
        if len(input_shape) != 3 or not filters:
            raise ValueError(
                f"{model_name}: invalid input_shape={tuple(input_shape)!r} or filters={filters!r} for kind='conv'; "
                "expected an image shape (height, width, channels) and at least one filter count"
            )
        step = 2 ** len(filters)
        if input_shape[0] % step or input_shape[1] % step:
            raise ValueError(
                f"{model_name}: invalid input_shape={tuple(input_shape)!r}; expected height and width divisible "
                f"by {step} (2 ** len(filters)={len(filters)})"
            )


def encoder_network(input_shape, latent_dim, kind="dense", hidden_units=(128, 64), filters=(16, 32),
                    heads=("code",), activation="relu", dropout=0.0, head_activation=None, name="encoder"):
    """x -> one Dense(latent_dim) output per name in ``heads`` (a VAE has mean and log-variance).

    The convolutional form (strided 3x3 convolutions) is also the GAN discriminator.
    """
    inputs = keras.Input(shape=input_shape, name="inputs")
    if kind == "dense":
        x = keras.layers.Flatten(name="flatten_in")(inputs) if len(input_shape) > 1 else inputs
        for i, units in enumerate(hidden_units):
            x = keras.layers.Dense(units, activation=activation, name=f"dense_{i}")(x)
    else:
        x = inputs
        for i, f in enumerate(filters):
            x = keras.layers.Conv2D(f, 3, strides=2, padding="same", activation=activation, name=f"conv_{i}")(x)
            if dropout:
                x = keras.layers.Dropout(dropout, name=f"dropout_{i}")(x)
        x = keras.layers.Flatten(name="flatten")(x)
    outputs = [keras.layers.Dense(latent_dim, activation=head_activation, name=head)(x) for head in heads]
    return keras.Model(inputs, outputs[0] if len(outputs) == 1 else outputs, name=name)


def conv_up_stack(x, image_shape, filters, batch_norm=False, activation="relu", output_activation="sigmoid"):
    """Code (B, d) -> image: Dense to the smallest grid, then one stride-2 ``Conv2DTranspose`` per filter
    (the encoder's filters reversed, the last one giving the image's channels)."""
    factor = 2 ** len(filters)
    h, w, channels = image_shape[0] // factor, image_shape[1] // factor, image_shape[2]
    x = keras.layers.Dense(h * w * filters[-1], use_bias=not batch_norm, name="project")(x)
    if batch_norm:
        x = keras.layers.BatchNormalization(name="project_bn")(x)
    x = keras.layers.Activation(activation, name="project_act")(x)
    x = keras.layers.Reshape((h, w, filters[-1]), name="grid")(x)
    ups = list(reversed(filters[:-1]))
    for i, f in enumerate(ups):
        x = keras.layers.Conv2DTranspose(f, 4, strides=2, padding="same", use_bias=not batch_norm,
                                         name=f"deconv_{i}")(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(name=f"deconv_bn_{i}")(x)
        x = keras.layers.Activation(activation, name=f"deconv_act_{i}")(x)
    return keras.layers.Conv2DTranspose(channels, 4, strides=2, padding="same", activation=output_activation,
                                        name="reconstruction")(x)


def decoder_network(output_shape, latent_dim, kind="dense", hidden_units=(128, 64), filters=(16, 32),
                    output_activation="sigmoid", name="decoder"):
    """code -> x (the encoder mirrored; transposed convolutions for ``kind="conv"``)."""
    inputs = keras.Input(shape=(latent_dim,), name="code")
    if kind == "dense":
        x = inputs
        for i, units in enumerate(reversed(hidden_units)):
            x = keras.layers.Dense(units, activation="relu", name=f"dense_{i}")(x)
        x = keras.layers.Dense(math.prod(output_shape), activation=output_activation, name="reconstruction")(x)
        if len(output_shape) > 1:
            x = keras.layers.Reshape(tuple(output_shape), name="unflatten")(x)
    else:
        x = conv_up_stack(inputs, output_shape, filters, output_activation=output_activation)
    return keras.Model(inputs, x, name=name)


class _CodecMixin:
    """``encoder``/``decoder`` sub-models and numpy ``encode``/``decode``."""

    @property
    def encoder(self):
        return self.get_layer("encoder")

    @property
    def decoder(self):
        return self.get_layer("decoder")

    def decode(self, z, batch_size=256):
        return self.decoder.predict(np.asarray(z, dtype="float32"), batch_size=batch_size, verbose=0)

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, **self._args}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


class _Autoencoder(_CodecMixin):  # + keras.Model: the class Autoencoder, made on first use (zoo.models._lazy)
    """x -> encoder -> code (``latent_dim``) -> decoder -> reconstruction of x."""

    def __init__(self, input_shape=(64,), latent_dim=16, kind="dense", hidden_units=(128, 64), filters=(16, 32),
                 noise_stddev=0.0, output_activation="sigmoid", **kwargs):
        _check("autoencoder", input_shape, kind, latent_dim, hidden_units, filters)
        check_number("noise_stddev", noise_stddev, low=0, owner="autoencoder")
        encoder = encoder_network(input_shape, latent_dim, kind, hidden_units, filters)
        decoder = decoder_network(input_shape, latent_dim, kind, hidden_units, filters, output_activation)
        inputs = keras.Input(shape=input_shape, name="inputs")
        x = keras.layers.GaussianNoise(noise_stddev, name="noise")(inputs) if noise_stddev else inputs
        kwargs.setdefault("name", "denoising_autoencoder" if noise_stddev else "autoencoder")
        super().__init__(inputs=inputs, outputs=decoder(encoder(x)), **kwargs)
        self._args = dict(input_shape=tuple(input_shape), latent_dim=latent_dim, kind=kind,
                          hidden_units=tuple(hidden_units), filters=tuple(filters), noise_stddev=noise_stddev,
                          output_activation=output_activation)

    def encode(self, x, batch_size=256):
        """Codes of ``x`` (numpy)."""
        return self.encoder.predict(np.asarray(x, dtype="float32"), batch_size=batch_size, verbose=0)


class _VAE(_CodecMixin):  # + keras.Model: the class VAE, made on first use (zoo.models._lazy)
    """Variational autoencoder with its own ``train_step``: logs ``loss``, ``reconstruction_loss``, ``kl_loss``."""

    def __init__(self, input_shape=(64,), latent_dim=2, kind="dense", hidden_units=(256, 128), filters=(16, 32),
                 beta=1.0, seed=None, **kwargs):
        from zoo.layers.sampling import Sampling

        _check("vae", input_shape, kind, latent_dim, hidden_units, filters)
        check_number("beta", beta, low=0, owner="vae")
        kwargs.setdefault("name", "vae")
        super().__init__(**kwargs)
        self._args = dict(input_shape=tuple(input_shape), latent_dim=latent_dim, kind=kind,
                          hidden_units=tuple(hidden_units), filters=tuple(filters), beta=float(beta), seed=seed)
        self.latent_dim = latent_dim
        self.beta = float(beta)
        self._encoder = encoder_network(input_shape, latent_dim, kind, hidden_units, filters,
                                        heads=("z_mean", "z_log_var"))
        self.sampling = Sampling(seed=seed, name="sampling")
        self._decoder = decoder_network(input_shape, latent_dim, kind, hidden_units, filters)
        self.trackers = {name: keras.metrics.Mean(name=name) for name in ("loss", "reconstruction_loss", "kl_loss")}
        self.build((None, *input_shape))

    def build(self, input_shape):
        self.sampling.build([(None, self.latent_dim)] * 2)
        self.built = True

    @property
    def encoder(self):
        return self._encoder

    @property
    def decoder(self):
        return self._decoder

    @property
    def metrics(self):
        return list(self.trackers.values())

    def call(self, x, training=None):
        z = self.sampling(self._encoder(x, training=training), training=training)
        return self._decoder(z, training=training)

    def compute_losses(self, x, training=False):
        """``(reconstruction, kl)``: per-example sums over pixels and latent units, averaged over the batch."""
        ops = keras.ops
        mean, log_var = self._encoder(x, training=training)
        recon = self._decoder(self.sampling([mean, log_var], training=training), training=training)
        flat = (-1, math.prod(self._args["input_shape"]))
        bce = keras.losses.binary_crossentropy(ops.reshape(x, flat)[..., None], ops.reshape(recon, flat)[..., None])
        reconstruction = ops.mean(ops.sum(bce, axis=-1))
        kl = ops.mean(-0.5 * ops.sum(1.0 + log_var - ops.square(mean) - ops.exp(log_var), axis=-1))
        return reconstruction, kl

    def _record(self, reconstruction, kl):
        for name, value in (("loss", reconstruction + self.beta * kl), ("reconstruction_loss", reconstruction),
                            ("kl_loss", kl)):
            self.trackers[name].update_state(value)
        return {name: m.result() for name, m in self.trackers.items()}

    def train_step(self, data):
        import tensorflow as tf

        x = data[0] if isinstance(data, (tuple, list)) else data
        with tf.GradientTape() as tape:
            reconstruction, kl = self.compute_losses(x, training=True)
            loss = reconstruction + self.beta * kl
        grads = tape.gradient(loss, self.trainable_weights)
        self.optimizer.apply(grads, self.trainable_weights)
        return self._record(reconstruction, kl)

    def test_step(self, data):
        x = data[0] if isinstance(data, (tuple, list)) else data
        return self._record(*self.compute_losses(x, training=False))

    def encode(self, x, batch_size=256):
        """``(z_mean, z_log_var)`` of ``x`` (numpy)."""
        mean, log_var = self._encoder.predict(np.asarray(x, dtype="float32"), batch_size=batch_size, verbose=0)
        return mean, log_var

    def sample(self, n, seed=None):
        """``n`` new examples decoded from codes drawn from the prior N(0, I)."""
        check_int("n", n, minimum=1, owner="vae")
        z = np.random.default_rng(seed).standard_normal((n, self.latent_dim)).astype("float32")
        return self.decode(z)


_new_autoencoder = keras_class(__name__, "Autoencoder", _Autoencoder)
_new_vae = keras_class(__name__, "VAE", _VAE)


def __getattr__(attr):  # the Keras classes, made on first use
    return declared_class(__name__, attr)

_AE_RECIPE = dict(data="digits", data_kwargs=dict(flat=True), optimizer="adam", learning_rate=1e-3, loss="mse",
                  epochs=40, batch_size=32)
_PAPER_AE = "Hinton & Salakhutdinov 2006, Reducing the dimensionality of data with neural networks"


@register(family="autoencoder", task="reconstruction", builder=_new_autoencoder, paper=_PAPER_AE, params=35_280,
          recipe=_AE_RECIPE, input_range="[0, 1]")
def autoencoder():
    """Dense autoencoder; encoder and decoder reachable separately (model.encoder, model.decoder)."""
    return dict(kind="dense")


@register(family="autoencoder", task="reconstruction", builder=_new_autoencoder, paper=_PAPER_AE, params=17_505,
          recipe=dict(_AE_RECIPE, data_kwargs={}), input_range="[0, 1]", min_input_shape=(4, 4, 1))
def conv_autoencoder():
    """Convolutional autoencoder: strided Conv2D encoder, Conv2DTranspose decoder."""
    return dict(kind="conv", input_shape=(8, 8, 1))


@register(family="autoencoder", task="reconstruction", builder=_new_autoencoder, params=35_280, recipe=_AE_RECIPE,
          paper="Vincent et al. 2008, Extracting and composing robust features with denoising autoencoders",
          input_range="[0, 1]")
def denoising_autoencoder():
    """Denoising autoencoder: Gaussian noise on the input in training only, clean targets."""
    return dict(kind="dense", noise_stddev=0.3)


@register(family="autoencoder", task="generation", builder=_new_vae, params=99_908,
          paper="Kingma & Welling 2014, Auto-encoding variational Bayes",
          recipe=dict(_AE_RECIPE, loss="binary_crossentropy", epochs=60), input_range="[0, 1]")
def vae():
    """Variational autoencoder: own train_step, Sampling layer, KL and reconstruction reported separately."""
    return dict(kind="dense")
