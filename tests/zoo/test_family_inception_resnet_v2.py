"""InceptionResNetV2: keras.applications parity (parameter count, layer names, weight transfer with and
without the top), the stride-keyed feature backbone, argument errors, block names, the tf-keras twin."""

import re

import keras
import pytest
from test_family_convnext import shapes_only
from test_family_xception import check_features, check_twin, parity

import zoo
from zoo.weights import block_names

SMALL = (75, 75, 3)  # keras.applications' minimum
SHALLOW = dict(block_repeats=(1, 1, 2))  # one block of each kind, and the last (unscaled) block8


def test_registered_with_its_twin_and_weights():
    meta = zoo.info("inception_resnet_v2")
    assert meta["keras_app"] == "InceptionResNetV2" and meta["input_range"] == "[-1, 1]"
    assert meta["min_input_shape"] == (75, 75, 1) and meta["defaults"]["input_shape"] == (299, 299, 3)
    tag = meta["pretrained"]["imagenet"]
    assert tag["notop_file"] == "inception_resnet_v2_weights_tf_dim_ordering_tf_kernels_notop.h5"
    assert (tag["input_size"], tag["top1"], tag["top5"]) == (299, 0.803, 0.953)


def test_parameter_count_equals_keras_applications():
    with shapes_only():  # built, never run nor initialised: the 1000-class default configuration
        ours = zoo.get("inception_resnet_v2").count_params()
        theirs = keras.applications.InceptionResNetV2(weights=None).count_params()
    assert ours == theirs == zoo.info("inception_resnet_v2")["params"] == 55_873_736


def test_weights_from_keras_applications_reproduce_its_outputs(rng):
    top, notop = parity("inception_resnet_v2", SMALL, rng)
    assert top <= 1e-5 and notop <= 1e-5


def test_features_and_blocks(rng):
    assert check_features("inception_resnet_v2", SMALL, rng, **SHALLOW) == [35, 15, 7, 3, 1]
    model = zoo.get("inception_resnet_v2", input_shape=SMALL, **SHALLOW)
    blocks = block_names(model, zoo.info("inception_resnet_v2")["block_pattern"])
    assert blocks == ["mixed_5b", "block35_1", "mixed_6a", "block17_1", "mixed_7a", "block8_1", "block8_2"]
    assert [la.name for la in model.layers if la.name.startswith("block8_2")][-3:] == [
        "block8_2_conv", "block8_2_scale", "block8_2_add"]  # the last block: no activation


@pytest.mark.parametrize("arg, value, expected", [
    ("block_repeats", (10, 0, 10), "expected three positive integers (block35, block17 and block8 repeats)"),
    ("block_repeats", (10, 20), "expected three positive integers"),
    ("input_shape", (74, 74, 3), "expected every dimension at least (75, 75, 1)"),
])
def test_bad_arguments_are_named(arg, value, expected):
    with pytest.raises(ValueError, match=re.escape(f"inception_resnet_v2: invalid {arg}={value!r}; {expected}")):
        zoo.get("inception_resnet_v2", **{**SHALLOW, arg: value})


def test_tf_keras_twin(rng):
    check_twin("inception_resnet_v2", SMALL, rng, **SHALLOW)
