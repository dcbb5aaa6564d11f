import numpy as np
import pytest

from zoo import data


def test_digits_splits_are_stratified_disjoint_and_seeded():
    splits = data.load("digits")
    (x, y), (xv, yv), (xt, yt) = splits
    assert x.shape[1:] == (8, 8, 1) and splits.num_classes == 10
    assert len(x) + len(xv) + len(xt) == 1797
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert set(np.unique(yt)) == set(range(10))
    again = data.load("digits")
    np.testing.assert_array_equal(again.train[0], x)
    other = data.load("digits", seed=1)
    assert not np.array_equal(other.train[1], y)


def test_digits_flat_and_resized():
    assert data.load("digits", flat=True).input_shape == (64,)
    assert data.load("digits", image_size=32, channels=3).input_shape == (32, 32, 3)


@pytest.mark.parametrize("name", ["moons", "circles", "xor", "blobs", "linear"])
def test_synthetic_sets(name):
    splits = data.load(name, n_samples=300)
    assert splits.input_shape == (2,)
    assert sum(len(s[0]) for s in splits) == 300


def test_linear_set_is_separable_with_a_margin():
    x, y = data.load("linear", n_samples=500).train
    w, b = np.array([1.0, -0.7]), 0.2
    margin = (x @ w + b) * np.where(y == 1, 1, -1) / np.linalg.norm(w)
    assert margin.min() > 0.1


def test_as_dataset_batches_full_and_stochastic():
    x = np.arange(10, dtype="float32")[:, None]
    y = np.arange(10)
    assert [len(b[0]) for b in data.as_dataset(x, y, batch_size=4, shuffle=False)] == [4, 4, 2]
    assert [len(b[0]) for b in data.as_dataset(x, y, batch_size="full")] == [10]
    assert len(list(data.as_dataset(x, y, batch_size=1))) == 10


def test_augmented_dataset_gives_new_variants_each_epoch_and_keeps_labels():
    x = data.load("digits", image_size=16).train[0][:32]
    y = np.arange(32)
    augment = data.augmentation(translate=0.12, rotate=0.04, zoom=0.1, seed=3)
    ds = data.as_dataset(x, y, batch_size=32, shuffle=False, augment=augment)
    (a, ya), (b, _) = next(iter(ds)), next(iter(ds))
    np.testing.assert_array_equal(ya, y)
    assert a.shape == x.shape and a.dtype == x.dtype
    assert not np.allclose(a, x) and not np.allclose(a, b)  # changed, and differently each pass
    # Shifts, small turns and zooms keep the ink: the total intensity changes little.
    assert np.allclose(np.asarray(a).sum(axis=(1, 2, 3)), x.sum(axis=(1, 2, 3)), rtol=0.35)
    # Inference mode is the identity.
    np.testing.assert_array_equal(augment(x, training=False), x)
    assert [layer.__class__.__name__ for layer in augment.layers] == ["RandomTranslation", "RandomRotation",
                                                                      "RandomZoom"]


@pytest.mark.parametrize(
    "call, pattern",
    [
        (lambda: data.load("no_such_set"), r"unknown dataset name='no_such_set'; expected one of"),
        (lambda: data.load("digits", val_fraction=0), r"invalid val_fraction=0"),
        (lambda: data.load("digits", val_fraction=0.5, test_fraction=0.5), r"expected < 1"),
        (lambda: data.load("moons", n_samples=3), r"invalid n_samples=3"),
        (lambda: data.load("digits", channels=2), r"invalid channels=2"),
        (lambda: data.as_dataset(np.zeros((4, 1)), batch_size=0), r"invalid batch_size=0"),
        (lambda: data.as_dataset(np.zeros((4, 1)), augment="flip"), r"invalid augment='flip'; expected a callable"),
        (lambda: data.augmentation(translate=1.5), r"invalid translate=1.5; expected a fraction in \[0, 1\)"),
        (lambda: data.augmentation(translate=0), r"changes nothing"),
    ],
)
def test_bad_input(call, pattern):
    with pytest.raises(ValueError, match=pattern):
        call()
