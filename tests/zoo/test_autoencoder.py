"""Autoencoders on digits: below the mean-image baseline, the denoiser wins on noisy input; the VAE."""

import keras
import numpy as np
import pytest

import zoo
from zoo import data
from zoo.layers.sampling import Sampling
from zoo.train import compile_from_recipe


@pytest.fixture(scope="module")
def digits():
    (x, _), _, (xt, _) = data.load("digits", flat=True)
    return x, xt


def _mse(a, b):
    return float(np.mean((np.asarray(a) - np.asarray(b)) ** 2))


def _train(name, x, epochs, **kw):
    model = zoo.get(name, **kw)
    compile_from_recipe(model, zoo.info(name)["recipe"], learning_rate=3e-3)
    model.fit(x, x, epochs=epochs, batch_size=32, verbose=0)
    return model


def test_dense_autoencoder_beats_the_mean_image_and_exposes_its_halves(digits):
    x, xt = digits
    model = _train("autoencoder", x, epochs=25)
    baseline = _mse(np.broadcast_to(x.mean(axis=0), xt.shape), xt)
    assert _mse(model.predict(xt, verbose=0), xt) < 0.4 * baseline
    codes = model.encode(xt)
    assert codes.shape == (len(xt), 16)
    np.testing.assert_allclose(model.decode(codes), model.predict(xt, verbose=0), atol=1e-5)


def test_conv_autoencoder_uses_transposed_convolutions_and_learns(digits):
    x, xt = digits
    images, images_t = x.reshape(-1, 8, 8, 1), xt.reshape(-1, 8, 8, 1)
    model = _train("conv_autoencoder", images, epochs=25)
    assert any(isinstance(layer, keras.layers.Conv2DTranspose) for layer in model.decoder.layers)
    assert model.encoder.output_shape == (None, 16) and model.decoder.output_shape == (None, 8, 8, 1)
    baseline = _mse(np.broadcast_to(images.mean(axis=0), images_t.shape), images_t)
    assert _mse(model.predict(images_t, verbose=0), images_t) < 0.5 * baseline


def test_denoiser_beats_the_plain_autoencoder_on_noisy_input(digits):
    x, xt = digits
    keras.utils.set_random_seed(1)
    plain = _train("autoencoder", x, epochs=25, latent_dim=32)
    keras.utils.set_random_seed(1)
    denoiser = _train("denoising_autoencoder", x, epochs=25, latent_dim=32, noise_stddev=0.3)
    noisy = np.clip(xt + np.random.default_rng(0).normal(scale=0.3, size=xt.shape), 0, 1).astype("float32")
    assert _mse(denoiser.predict(noisy, verbose=0), xt) < 0.85 * _mse(plain.predict(noisy, verbose=0), xt)
    # noise is applied in training only: inference is deterministic
    np.testing.assert_array_equal(denoiser(xt[:8], training=False), denoiser(xt[:8], training=False))
    assert not np.allclose(denoiser(xt[:8], training=True), denoiser(xt[:8], training=False))


def test_vae_reports_kl_and_reconstruction_separately_and_samples(digits):
    x, xt = digits
    model = zoo.get("vae", latent_dim=4)
    model.compile(keras.optimizers.Adam(2e-3))
    h = model.fit(x, epochs=12, batch_size=32, verbose=0, validation_data=(xt,)).history
    assert {"loss", "reconstruction_loss", "kl_loss", "val_reconstruction_loss", "val_kl_loss"} <= set(h)
    np.testing.assert_allclose(h["loss"][-1], h["reconstruction_loss"][-1] + h["kl_loss"][-1], rtol=1e-4)
    assert h["reconstruction_loss"][-1] < 0.75 * h["reconstruction_loss"][0] and h["kl_loss"][-1] > 0
    mean, log_var = model.encode(xt[:10])
    assert mean.shape == log_var.shape == (10, 4)
    samples = model.sample(16, seed=0)
    assert samples.shape == (16, 64) and samples.min() >= 0 and samples.max() <= 1
    assert samples.std(axis=0).mean() > 0.02  # different codes decode to different digits
    np.testing.assert_array_equal(model.sample(4, seed=1), model.sample(4, seed=1))
    with pytest.raises(ValueError, match="invalid n=0"):
        model.sample(0)


def test_sampling_layer_draws_with_the_given_mean_and_variance():
    layer = Sampling(seed=0)
    mean = np.full((20000, 2), [1.0, -2.0], "float32")
    log_var = np.full((20000, 2), np.log([0.25, 4.0]), "float32")
    z = keras.ops.convert_to_numpy(layer([mean, log_var], training=True))
    np.testing.assert_allclose(z.mean(axis=0), [1.0, -2.0], atol=0.05)
    np.testing.assert_allclose(z.var(axis=0), [0.25, 4.0], rtol=0.05)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(layer([mean, log_var])), mean)


def test_bad_autoencoder_arguments_raise():
    with pytest.raises(ValueError, match="divisible by 4"):
        zoo.get("conv_autoencoder", input_shape=(6, 6, 1))
    with pytest.raises(ValueError, match="invalid kind='rnn'"):
        zoo.get("autoencoder", kind="rnn")
    with pytest.raises(ValueError, match="noise_stddev=-1"):
        zoo.get("denoising_autoencoder", noise_stddev=-1)
