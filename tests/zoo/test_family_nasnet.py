"""NASNet Mobile and Large: keras.applications parity (parameter counts of both, layer names, weight
transfer with and without the top), the stride-keyed feature backbone, argument errors, cell names,
the tf-keras twin."""

import functools
import re

import keras
import pytest
from keras.src.applications.nasnet import NASNet
from test_family_convnext import shapes_only
from test_family_xception import check_features, check_twin, parity

import zoo
from zoo.weights import block_names

VARIANTS = {"nasnet_mobile": ("NASNetMobile", 5_326_716), "nasnet_large": ("NASNetLarge", 88_949_818)}
SMALL = (32, 32, 3)  # keras.applications' minimum
# NASNet-Large's structure (stem 96, skip_reduction) with fewer, narrower cells, so that it runs quickly
LARGE_NARROW = dict(penultimate_filters=192, stem_block_filters=96, num_blocks=1, skip_reduction=True)
TINY = dict(penultimate_filters=192, stem_block_filters=16, num_blocks=1)  # the registered test configuration's


def test_the_family_is_registered_with_its_twins():
    assert all(zoo.info(name)["test_config"] == dict(TINY, input_shape=SMALL, num_classes=3) for name in VARIANTS)
    assert zoo.list_models(family="nasnet") == sorted(VARIANTS)
    for name, (app, _) in VARIANTS.items():
        meta = zoo.info(name)
        assert meta["keras_app"] == app and meta["input_range"] == "[-1, 1]" and meta["min_input_shape"] == (32, 32, 1)
        tag = meta["pretrained"]["imagenet"]
        assert tag["notop_file"] == f"{name}_no_top.h5" and tag["top_file"] == f"{name}.h5"
        assert tag["notop_url"].endswith("-no-top.h5")  # the server's names, as keras.applications fetches them
    assert zoo.info("nasnet_mobile")["defaults"]["input_shape"] == (224, 224, 3)
    assert zoo.info("nasnet_large")["defaults"]["input_shape"] == (331, 331, 3)


@pytest.mark.parametrize("name", VARIANTS)
def test_parameter_count_equals_keras_applications(name):
    app, count = VARIANTS[name]
    with shapes_only():  # built, never run nor initialised: the 1000-class default configuration
        ours = zoo.get(name).count_params()
        theirs = getattr(keras.applications, app)(weights=None).count_params()
    assert ours == theirs == zoo.info(name)["params"] == count


def test_mobile_weights_from_keras_applications_reproduce_its_outputs(rng):
    top, notop = parity("nasnet_mobile", SMALL, rng)
    assert top <= 1e-5 and notop <= 1e-5


def test_large_structure_weights_from_keras_reproduce_its_outputs(rng):
    # keras' NASNet builder with NASNetLarge's structure, smaller (the full size is checked by the count)
    app = functools.partial(NASNet, weights=None, default_size=331, name="nasnet_large", filter_multiplier=2,
                            **LARGE_NARROW)
    top, notop = parity("nasnet_large", SMALL, rng, app=app, **LARGE_NARROW)
    assert top <= 1e-5 and notop <= 1e-5


def test_features_and_cells(rng):
    assert check_features("nasnet_mobile", SMALL, rng, **TINY) == [15, 8, 4, 2, 1]
    model = zoo.get("nasnet_mobile", input_shape=SMALL, **TINY)
    cells = block_names(model, zoo.info("nasnet_mobile")["block_pattern"])
    assert cells == ["stem_1", "stem_2", "0", "reduce_1", "2", "reduce_2", "3"]


@pytest.mark.parametrize("arg, value, expected", [
    ("penultimate_filters", 1000, "a positive multiple of 24 * filter_multiplier**2 = 96 (filter_multiplier=2)"),
    ("num_blocks", 0, "an integer >= 1"),
    ("filter_multiplier", 1.5, "an integer >= 1"),
    ("skip_reduction", "yes", "True or False"),
    ("input_shape", (31, 31, 3), "every dimension at least (32, 32, 1)"),
])
def test_bad_arguments_are_named(arg, value, expected):
    with pytest.raises(ValueError, match=re.escape(f"nasnet_mobile: invalid {arg}={value!r}; expected {expected}")):
        zoo.get("nasnet_mobile", **{**TINY, arg: value})


def test_tf_keras_twin(rng):
    check_twin("nasnet_large", SMALL, rng, **TINY)
