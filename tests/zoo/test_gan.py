"""DCGAN on digits: registry parts, two optimizers, the discriminator learns, samples vary."""

import keras
import numpy as np
import pytest

import zoo
from zoo import data
from zoo.models.gan import DCGAN


def test_dcgan_trains_on_digits_and_generates_varied_samples():
    (x, _), _, _ = data.load("digits")
    gan = zoo.get("dcgan", label_smoothing=0.1)
    assert gan.generator.count_params() == zoo.info("dcgan_generator")["params"]
    assert gan.discriminator.count_params() == zoo.info("dcgan_discriminator")["params"]
    gan.compile(optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5), d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5))
    assert gan.d_optimizer is not gan.g_optimizer
    h = gan.fit(x, epochs=8, batch_size=32, verbose=0).history
    assert {"d_loss", "g_loss", "d_accuracy"} <= set(h)
    steps = 8 * int(np.ceil(len(x) / 32))
    assert int(gan.d_optimizer.iterations) == int(gan.g_optimizer.iterations) == steps
    # the discriminator does better than chance (0.5) at some point: the game is being played
    assert max(abs(a - 0.5) for a in h["d_accuracy"]) > 0.1
    samples = gan.generate(64, seed=0)
    assert samples.shape == (64, 8, 8, 1) and samples.min() >= 0 and samples.max() <= 1
    assert samples.std(axis=0).mean() > 0.1  # not one constant image (real digits: 0.23)
    np.testing.assert_array_equal(gan.generate(4, seed=1), gan.generate(4, seed=1))


def test_dcgan_compile_defaults_to_a_copy_of_the_optimizer():
    gan = DCGAN(latent_dim=8)
    gan.compile(optimizer=keras.optimizers.Adam(3e-4))
    assert gan.d_optimizer is not gan.g_optimizer
    assert float(gan.d_optimizer.learning_rate) == pytest.approx(3e-4)


def test_dcgan_bad_arguments_raise():
    with pytest.raises(ValueError, match="label_smoothing=0.6"):
        zoo.get("dcgan", label_smoothing=0.6)
    with pytest.raises(ValueError, match="divisible by 4"):
        zoo.get("dcgan", image_shape=(6, 6, 1))
    with pytest.raises(ValueError, match="invalid n=0"):
        zoo.get("dcgan").generate(0)
