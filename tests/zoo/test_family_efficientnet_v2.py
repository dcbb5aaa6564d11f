"""EfficientNetV2 B0-B3, S, M, L: keras.applications parity (parameter counts and weight layout of every variant,
weight transfer with and without the top, with and without the built-in preprocessing), the stride-keyed feature
backbone, block names, argument errors, the registered weights files, the tf-keras twin. The checks are
test_family_efficientnet.py's."""

import pytest
from test_family_efficientnet import (
    assert_bad_argument,
    assert_features,
    assert_layout_equals_keras_applications,
    assert_registered,
    assert_tf_keras_twin,
    parity,
)

from zoo.models._mbconv import BLOCK_PATTERN
from zoo.weights import block_names

VARIANTS = {f"efficientnet_v2_{v}": f"EfficientNetV2{v.upper()}" for v in ("b0", "b1", "b2", "b3", "s", "m", "l")}
WIDTHS = {2: 16, 4: 32, 8: 48, 16: 112, 32: 1280}  # B0's channels at each stride
PREPROCESSING = dict(include_preprocessing=True)  # keras_app_model builds twins without it unless asked


def test_the_family_is_registered_with_keras_applications_files():
    from keras.src.applications import efficientnet_v2

    def weights_name(app):  # keras' WEIGHTS_HASHES keys: "b0".."b3", "-s", "-m", "-l"
        variant = app[len("EfficientNetV2"):].lower()
        return variant if variant.startswith("b") else f"-{variant}"

    assert_registered("efficientnet_v2", VARIANTS, efficientnet_v2, weights_name)


@pytest.mark.parametrize("name", VARIANTS)
def test_layout_equals_keras_applications(name):
    assert_layout_equals_keras_applications(name)


# B0 with and without the top; S for the S/M/L plans (x / 128 - 1 rather than ImageNet normalisation).
@pytest.mark.parametrize("name, top", [("efficientnet_v2_b0", True), ("efficientnet_v2_b0", False),
                                       ("efficientnet_v2_s", False)])
def test_weights_from_keras_applications_reproduce_its_outputs(name, top, rng):
    parity(name, rng, top, app_kwargs=PREPROCESSING)


def test_without_preprocessing_it_is_keras_applications_model_without_it(rng):
    parity("efficientnet_v2_b0", rng, True, app_kwargs=dict(include_preprocessing=False),
           zoo_kwargs=dict(include_preprocessing=False))


def test_features_are_one_map_per_stride_and_blocks_are_named(rng):
    model = assert_features("efficientnet_v2_b0", WIDTHS, rng, app_kwargs=PREPROCESSING)
    stages = (1, 2, 2, 3, 5, 8)
    assert block_names(model, BLOCK_PATTERN) == [f"block{i}{chr(97 + j)}" for i, n in enumerate(stages, 1) for j in range(n)]


@pytest.mark.parametrize("arg, value, expected", [
    ("blocks", "xl", "one of 'b', 'l', 'm', 's'"),
    ("width_coefficient", -1.0, "a number > 0"),
    ("drop_connect_rate", -0.1, r"a number in \[0, 1\)"),
    ("include_preprocessing", 1, "True or False"),
    ("input_shape", (32, 16, 3), r"every dimension at least \(32, 32, 1\)"),
])
def test_bad_arguments_say_what_is_accepted(arg, value, expected):
    assert_bad_argument("efficientnet_v2_b0", arg, value, expected)


@pytest.mark.parametrize("name", ["efficientnet_v2_b0", "efficientnet_v2_s"])
def test_tf_keras_twin(name, rng):
    assert_tf_keras_twin(name, rng, width_coefficient=0.5, depth_coefficient=0.2)
