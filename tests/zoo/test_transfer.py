"""Transfer learning: blocks, freezing (BN in inference mode), head swap, digits 0-4 -> 5-9."""

import keras
import numpy as np
import pytest

import zoo
from zoo import transfer

SMALL = dict(input_shape=(8, 8, 1), filters=(8, 16, 16))


def test_blocks_are_found_by_name_prefix_in_order():
    model = zoo.get("simple_cnn", num_classes=3, **SMALL)
    found = transfer.blocks(model)
    assert list(found) == ["block1", "block2", "block3"]
    assert all(layer.name.startswith("block2_") for layer in found["block2"])
    custom = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="stage1_dense"),
                               keras.layers.Dense(3, name="stage2_dense")])
    assert list(transfer.blocks(custom, block_pattern=r"^(stage\d+)_")) == ["stage1", "stage2"]


def test_set_trainable_freezes_all_but_the_head_and_the_top_blocks():
    model = transfer.replace_head(zoo.get("simple_cnn", num_classes=3, **SMALL), 4)
    assert model.output.shape[-1] == 4
    trainable = transfer.set_trainable(model, 0)
    assert trainable == ["predictions"]
    trainable = transfer.set_trainable(model, 1)
    assert set(trainable) == {"block3_conv1", "block3_conv2", "predictions"}  # BN stays frozen
    assert not model.get_layer("block3_bn1").trainable and not model.get_layer("block2_conv1").trainable
    trainable = transfer.set_trainable(model, ["block1"], train_batchnorm=True)
    assert "block1_bn1" in trainable and "block2_conv1" not in trainable
    convs_and_head = [la for la in model.layers if la.weights and not isinstance(la, keras.layers.BatchNormalization)]
    assert len(transfer.set_trainable(model, "all")) == len(convs_and_head)  # "all" but BN


def test_frozen_batchnorm_runs_in_inference_mode(rng):
    model = transfer.replace_head(zoo.get("simple_cnn", num_classes=3, **SMALL), 2)
    transfer.set_trainable(model, 1)
    bn = model.get_layer("block1_bn1")
    mean_before = bn.moving_mean.numpy().copy()
    x = rng.normal(3.0, 2.0, size=(16, 8, 8, 1)).astype("float32")
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, np.zeros(16, "int32"), epochs=1, verbose=0)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), mean_before)  # statistics untouched
    np.testing.assert_allclose(model(x, training=True), model(x, training=False), atol=1e-5)


def test_bad_block_names_and_counts_fail_before_training():
    model = transfer.replace_head(zoo.get("simple_cnn", num_classes=3, **SMALL), 2)
    with pytest.raises(ValueError, match=r"has no block 'block9'; its blocks are \['block1', 'block2', 'block3'\]"):
        transfer.set_trainable(model, ["block9"])
    with pytest.raises(ValueError, match="invalid unfreeze=4; backbone .* has 3 blocks"):
        transfer.set_trainable(model, 4)
    with pytest.raises(ValueError, match="invalid unfreeze='top'"):
        transfer.set_trainable(model, "top")
    mlp = zoo.get("mlp")
    with pytest.raises(ValueError, match="has no block named like"):
        transfer.fine_tune(mlp, "digits", data_kwargs=dict(flat=True), stages=[dict(unfreeze=1, epochs=1)])
    with pytest.raises(ValueError, match="invalid backbone=3"):
        transfer.fine_tune(3, "digits")
    with pytest.raises(ValueError, match=r"invalid stages\[0\]"):
        transfer.fine_tune("simple_cnn", "digits", stages=[dict(epoch=1)])
    with pytest.raises(ValueError, match="invalid stages="):
        transfer.fine_tune("simple_cnn", "digits", stages=[])
    expected = r"invalid stages\[0\] schedule='linear'; expected one of \['constant', 'cosine', 'step'\]"
    with pytest.raises(ValueError, match=expected):
        transfer.fine_tune("simple_cnn", "digits", stages=[dict(schedule="linear")])


def test_fine_tune_by_name_loads_weights_of_another_class_count(tmp_path):
    pre = zoo.get("simple_cnn", num_classes=10, **SMALL)
    path = str(tmp_path / "pre.weights.h5")
    pre.save_weights(path)
    result = transfer.fine_tune("simple_cnn", "digits", num_classes=10, weights=path, input_shape=(8, 8, 1),
                                model_kwargs=dict(filters=SMALL["filters"]),
                                stages=[dict(unfreeze=0, epochs=1),
                                        dict(unfreeze=1, epochs=2, learning_rate=1e-4, schedule="cosine")],
                                augment=zoo.data.augmentation(translate=0.1))
    assert len(result.histories) == 2 and 0 <= result.test["accuracy"] <= 1
    # The cosine stage decayed its learning rate to 0 over its two epochs.
    assert float(result.model.optimizer.learning_rate) < 1e-9
    # The frozen stem kept the pretrained weights.
    np.testing.assert_array_equal(result.model.get_layer("block1_conv1").kernel.numpy(),
                                  pre.get_layer("block1_conv1").kernel.numpy())
    assert result.model.get_layer("block3_conv1").trainable


@pytest.mark.parametrize("name, kwargs, expected", [
    ("resnet18", dict(input_shape=(32, 32, 3)), [f"conv{s}_block{b}" for s in (2, 3, 4, 5) for b in (1, 2)]),
    ("xception_small", dict(input_shape=(16, 16, 3), filters=(8, 16), stem_filters=8), ["block1", "block2"]),
])
def test_blocks_of_other_backbones(name, kwargs, expected):
    model = transfer.replace_head(zoo.get(name, num_classes=10, **kwargs), 5)
    assert list(transfer.blocks(model)) == expected
    trainable = transfer.set_trainable(model, 1)
    assert trainable and all(n.startswith(expected[-1]) or n == "predictions" for n in trainable)
