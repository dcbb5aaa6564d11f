"""DenseNet family: keras.applications parity (parameter counts and weight layout of every variant,
weight transfer with and without the top), the stride-keyed feature backbone, its blocks, argument
errors, the tf-keras twin (the shared checks are test_family_resnet_v2.py's)."""

import pytest
from test_family_resnet_v2 import (
    SMALL,
    assert_features,
    assert_layout_equals_keras_applications,
    assert_parity_with_and_without_top,
    assert_registered,
    assert_tf_keras_twin,
)

import zoo
from zoo.weights import block_names

VARIANTS = {"densenet121": "DenseNet121", "densenet169": "DenseNet169", "densenet201": "DenseNet201"}
WIDTHS = {2: 64, 4: 256, 8: 512, 16: 1024, 32: 1024}  # densenet121's channels at each stride


def test_the_family_is_registered_with_its_twins():
    assert_registered("densenet", VARIANTS, "torch", lambda name, app: f"{name}_weights_tf_dim_ordering_tf_kernels_notop.h5")


@pytest.mark.parametrize("name", VARIANTS)
def test_parameter_count_and_weight_layout_equal_keras_applications(name):
    assert_layout_equals_keras_applications(name)


# 169 and 201 only have longer dense blocks than 121; their layouts are checked against keras.applications above.
def test_weights_from_keras_applications_reproduce_its_outputs(rng):
    assert_parity_with_and_without_top("densenet121", rng)


def test_features_give_one_map_per_stride_and_take_the_backbones_weights(rng):
    assert_features("densenet121", WIDTHS, rng)


def test_blocks_are_the_dense_layers_and_the_transitions():
    model = zoo.get("densenet121", blocks=(2, 1, 1, 1), growth_rate=4, input_shape=SMALL)
    assert block_names(model, zoo.info("densenet121")["block_pattern"]) == [
        "conv2_block1", "conv2_block2", "pool2", "conv3_block1", "pool3", "conv4_block1", "pool4", "conv5_block1"]


@pytest.mark.parametrize("overrides, match", [
    (dict(blocks=(6, 12, 24)), r"densenet121: invalid blocks=\(6, 12, 24\); expected four positive integers"),
    (dict(growth_rate=0), r"densenet121: invalid growth_rate=0; expected an integer >= 1"),
    (dict(input_shape=(16, 32, 3)), r"densenet121: invalid input_shape=\(16, 32, 3\); expected every dimension "
                                    r"at least \(32, 32, 1\)"),
])
def test_bad_arguments_name_the_argument_the_value_and_what_is_accepted(overrides, match):
    with pytest.raises(ValueError, match=match):
        zoo.get("densenet121", **overrides)


def test_tf_keras_twin_has_the_same_layers_and_outputs(rng):
    assert_tf_keras_twin("densenet121", rng, blocks=(2, 2, 2, 2), growth_rate=8)
