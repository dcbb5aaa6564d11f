"""features=True: one output per stride, in stride order, with timm-style feature_info, for every image family."""

import keras
import numpy as np
import pytest

import zoo


def _one_per_builder():
    """The smallest registered image model (one with a ``features`` argument) of each builder."""
    best = {}
    for name in zoo.list_models(task="classification"):
        meta = zoo.registry._lookup(name)
        if "features" in meta.accepted_arguments() and meta.min_input_shape and len(meta.min_input_shape) == 3:
            if meta.builder not in best or (meta.params or 0) < (best[meta.builder].params or 0):
                best[meta.builder] = meta
    return sorted(meta.name for meta in best.values())


@pytest.mark.parametrize("name", _one_per_builder())
def test_features_come_in_stride_order_with_feature_info(name):
    meta = zoo.info(name)
    config = dict(meta["test_config"] or {})
    side = max(32, meta["min_input_shape"][0], (config.get("input_shape") or (0,))[0])
    config.update(input_shape=(side, side, 3), features=True)
    config.pop("num_classes", None)
    model = zoo.get(name, **config)
    keys = list(model.output.keys())
    strides = [int(k.split("_")[1]) for k in keys]
    assert strides == sorted(set(strides)) and strides, keys
    out = model(np.zeros((1, side, side, 3), "float32"))
    assert list(out.keys()) == keys
    assert [f["key"] for f in model.feature_info] == keys
    for info, key in zip(model.feature_info, keys, strict=True):
        assert info["reduction"] == int(key.split("_")[1])
        assert info["channels"] == out[key].shape[-1]
        if info["layer"] is not None:  # None when an op (x + y) makes the tensor
            assert isinstance(model.get_layer(info["layer"]), keras.layers.Layer)
        assert abs(out[key].shape[1] - side / info["reduction"]) <= 4  # valid padding trims a few pixels


def test_classifiers_carry_feature_info_too():
    model = zoo.get("resnet50", input_shape=(64, 64, 3), num_classes=3)
    assert [f["reduction"] for f in model.feature_info] == [2, 4, 8, 16, 32]
    assert model.feature_info[-1] == {"key": "stride_32", "reduction": 32, "channels": 2048, "layer": "conv5_block3_out"}
