"""Transfer learning: feature extraction, then fine-tuning the top blocks of a backbone.

``fine_tune(backbone, data, num_classes, weights=path, stages=[...])`` takes a
registered image model's name (or a built Keras model), loads local pretrained
weights, replaces its classification head with a fresh one for ``num_classes``
and trains in stages, as the Keras transfer-learning guide and timm recipes do:

1. feature extraction: the backbone frozen, only the new head trains;
2. fine-tuning: the top ``N`` blocks unfrozen too, with a lower learning rate.

A stage is a dict: ``unfreeze`` (``0``/``"head"``: head only; ``N``: the top N
blocks, plus the layers after the last block; a list of block names; ``"all"``),
``epochs``, ``learning_rate``, ``schedule`` (``"constant"``, ``"cosine"`` or ``"step"``: decayed
to 0 over the stage), ``optimizer`` (default ``"adam"``), ``batch_size``.
BatchNormalization layers stay frozen, so they run in inference mode with their
pretrained statistics (a small fine-tuning batch would otherwise wreck them),
unless ``train_batchnorm=True``.

Blocks are found by layer-name prefix, following the zoo's image-model naming
(``conv3_block2_*``, ``block5_*``, ``mixed7_*``: ``zoo.core.naming.BLOCK_RE``);
``block_pattern=`` gives another regex whose first group names the block.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import keras
import numpy as np

from zoo.core.checks import check_bool, check_int, check_model, check_number, check_type, fail
from zoo.core.naming import HEAD, block_regex
from zoo.core.seeding import seed_everything

__all__ = ["TransferResult", "fine_tune", "as_splits", "blocks", "set_trainable", "replace_head"]

DEFAULT_STAGES = (
    dict(unfreeze=0, epochs=10, learning_rate=1e-3),
    dict(unfreeze=2, epochs=10, learning_rate=1e-4),
)


@dataclasses.dataclass
class TransferResult:
    """What ``fine_tune`` returns: the model, one history per stage, and its test figures."""

    model: keras.Model
    histories: list
    test: dict
    stages: list


def blocks(model, block_pattern=None) -> dict:
    """The blocks of ``model`` in order, input to output: ``{block name: [layers]}``.

    A layer whose name matches no block belongs to the block before it (layers
    before the first block are the stem and belong to none).
    """
    check_model("model", model, "blocks")
    pattern = block_regex(block_pattern)
    out: dict = {}
    current = None
    for layer in model.layers:
        match = pattern.match(layer.name)
        if match:
            current = match.group(1)
        if current is not None:
            out.setdefault(current, []).append(layer)
    return out


def _head_input(model):
    """The tensor feeding the classification head, or the model's output if it has none."""
    try:
        head = model.get_layer(HEAD)
    except ValueError:
        head = None
    if head is not None:
        return head.input
    out = model.output
    if isinstance(out, (list, tuple, dict)):
        raise ValueError(
            f"backbone {model.name!r} has several outputs; pass a model with one output (not features=True)"
        )
    return out


def replace_head(model, num_classes, dropout=0.0, classifier_activation="softmax"):
    """``model`` with its ``predictions`` layer replaced by a fresh ``num_classes`` head.

    A model without ``predictions`` keeps all its layers and gets the head on its
    output (a feature map is pooled first).
    """
    check_model("model", model, "replace_head")
    check_int("num_classes", num_classes, minimum=1)
    check_number("dropout", dropout, 0, 1, high_open=True)
    if classifier_activation is not None and not isinstance(classifier_activation, str) and not callable(
            classifier_activation):
        fail("classifier_activation", classifier_activation, "None, an activation name or a callable", error=TypeError)
    x = _head_input(model)
    if len(x.shape) > 2:
        x = keras.layers.GlobalAveragePooling2D(name="avg_pool_new")(x) if len(x.shape) == 4 else \
            keras.layers.Flatten(name="flatten_new")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="head_dropout")(x)
    out = keras.layers.Dense(num_classes, activation=classifier_activation, name=HEAD)(x)
    return keras.Model(model.inputs, out, name=f"{model.name}_transfer")


def set_trainable(model, unfreeze, block_pattern=None, train_batchnorm=False) -> list[str]:
    """Freeze ``model`` but its head and the blocks ``unfreeze`` names; return the trainable layers' names.

    ``unfreeze``: ``0`` or ``"head"`` (the head only), ``N`` (the top N blocks and the
    layers after them), a list of block names, or ``"all"``.
    """
    check_model("model", model, "set_trainable")
    check_bool("train_batchnorm", train_batchnorm)
    found = blocks(model, block_pattern)
    names = list(found)
    model.trainable = True
    head = {HEAD, "head_dropout", "avg_pool_new", "flatten_new"}
    if unfreeze == "all":
        chosen = set(model.layers)
    elif unfreeze == "head" or (isinstance(unfreeze, int) and not isinstance(unfreeze, bool) and unfreeze == 0):
        chosen = set()
    elif isinstance(unfreeze, int) and not isinstance(unfreeze, bool) and unfreeze > 0:
        if not names:
            raise ValueError(
                f"invalid unfreeze={unfreeze}: backbone {model.name!r} has no block named like "
                f"{block_regex(block_pattern).pattern!r} (its layers: {[la.name for la in model.layers][:8]}...); "
                "pass block_pattern= or unfreeze='all'"
            )
        if unfreeze > len(names):
            raise ValueError(
                f"invalid unfreeze={unfreeze}; backbone {model.name!r} has {len(names)} blocks {names}"
            )
        chosen = {layer for name in names[-unfreeze:] for layer in found[name]}
    elif isinstance(unfreeze, (list, tuple)) and all(isinstance(n, str) for n in unfreeze):
        missing = [n for n in unfreeze if n not in found]
        if missing:
            raise ValueError(
                f"invalid unfreeze={list(unfreeze)}: backbone {model.name!r} has no block {missing[0]!r}; "
                f"its blocks are {names}"
            )
        chosen = {layer for name in unfreeze for layer in found[name]}
    else:
        raise ValueError(
            f"invalid unfreeze={unfreeze!r}; expected 0 or 'head', a number of top blocks, a list of block "
            "names, or 'all'"
        )
    trainable = []
    for layer in model.layers:
        on = layer in chosen or layer.name in head
        if isinstance(layer, keras.layers.BatchNormalization) and not train_batchnorm:
            on = False  # frozen BN runs in inference mode (Keras 3: training and trainable)
        layer.trainable = on
        if on and layer.weights:
            trainable.append(layer.name)
    return trainable


def as_splits(data, data_kwargs=None):
    """``data`` as ``zoo.data.Splits``: a ``zoo.data.load`` source (with ``data_kwargs``), Splits, or array pairs."""
    import os

    from zoo import data as zdata

    check_kwargs("data_kwargs", data_kwargs)
    if isinstance(data, (str, os.PathLike)):
        return zdata.load(data, **(data_kwargs or {}))
    if isinstance(data, zdata.Splits):
        return data
    if isinstance(data, (tuple, list)) and len(data) in (2, 3) and all(
        isinstance(p, (tuple, list)) and len(p) == 2 for p in data
    ):
        test = data[2] if len(data) == 3 else data[1]
        y = np.concatenate([np.asarray(p[1]).reshape(-1) for p in data])
        return zdata.Splits("data", tuple(data[0]), tuple(data[1]), tuple(test), int(y.max()) + 1)
    raise ValueError(
        f"invalid data={type(data).__name__}; expected a zoo.data.load source (a name or path), zoo.data.Splits, "
        "or ((x, y), (x_val, y_val)[, (x_test, y_test)])"
    )


#: An epoch of fewer batches than this repeats the training data up to it: 50 labels in batches of
#: 32 would otherwise give 2 optimizer steps an epoch, and a few-label fine-tune would not move.
MIN_STEPS_PER_EPOCH = 20


def _steps_per_epoch(examples, batch_size):
    """Optimizer steps of one epoch: a pass over ``examples`` (the last batch may be short), at least
    :data:`MIN_STEPS_PER_EPOCH`."""
    return max(-(-examples // batch_size), MIN_STEPS_PER_EPOCH)


def _total_steps(examples, batch_size, epochs):
    return epochs * _steps_per_epoch(examples, batch_size)


def check_kwargs(arg, value, owner=None):
    """A ``TypeError`` for keyword arguments (``data_kwargs=``, ``model_kwargs=``) that are not a dict or None."""
    check_type(arg, value, Mapping, "a dict of keyword arguments", owner, allow_none=True)


def _check_stages(stages):
    if not isinstance(stages, (list, tuple)) or not stages:
        raise ValueError(f"invalid stages={stages!r}; expected a non-empty list of dicts")
    from zoo.core.recipe import SCHEDULES

    allowed = {"unfreeze", "epochs", "learning_rate", "schedule", "optimizer", "batch_size"}
    out = []
    for i, stage in enumerate(stages):
        if not isinstance(stage, dict) or set(stage) - allowed:
            raise ValueError(f"invalid stages[{i}]={stage!r}; expected a dict with keys among {sorted(allowed)}")
        epochs = stage.get("epochs", 10)
        if not isinstance(epochs, int) or isinstance(epochs, bool) or epochs < 1:
            raise ValueError(f"invalid stages[{i}] epochs={epochs!r}; expected a positive integer")
        if "batch_size" in stage:
            check_int(f"stages[{i}] batch_size", stage["batch_size"], minimum=1)
        lr = stage.get("learning_rate", 1e-3)
        if not isinstance(lr, (int, float)) or isinstance(lr, bool) or lr <= 0:
            raise ValueError(f"invalid stages[{i}] learning_rate={lr!r}; expected a positive number")
        if stage.get("schedule", "constant") not in SCHEDULES:
            raise ValueError(f"invalid stages[{i}] schedule={stage['schedule']!r}; expected one of {list(SCHEDULES)}")
        out.append({"unfreeze": 0, "optimizer": "adam", "schedule": "constant", **stage, "epochs": epochs,
                    "learning_rate": lr})
    return out


def fine_tune(
    backbone,
    data,
    num_classes=None,
    weights=None,
    stages=DEFAULT_STAGES,
    input_shape=None,
    data_kwargs=None,
    model_kwargs=None,
    head_dropout=0.0,
    batch_size=32,
    block_pattern=None,
    train_batchnorm=False,
    callbacks=(),
    metrics=("accuracy",),
    augment=None,
    seed=0,
    verbose=0,
) -> TransferResult:
    """Transfer ``backbone`` (a registered name or a Keras model) to ``data`` in ``stages``.

    ``weights``: a local ``.weights.h5``/``.keras`` file of the backbone (any class
    count: its head is replaced). ``data``: a ``zoo.data.load`` source (with
    ``data_kwargs``), ``zoo.data.Splits`` (arrays or streams: each split is read through
    ``splits.dataset``) or ``((x, y), (x_val, y_val)[, test])``.
    Labels are integers; ``num_classes`` defaults to the data's. ``model_kwargs`` are
    further arguments of a named backbone (they must match the weights file).
    ``augment``: random augmentation of the training images (``zoo.data.augmentation()``).
    """
    import zoo
    from zoo.core.recipe import make_optimizer, scheduled_learning_rate

    stages = _check_stages(stages)
    if not isinstance(backbone, (str, keras.Model)):
        raise ValueError(
            f"invalid backbone={backbone!r}; expected a registered model name (zoo.list_models()) or a keras.Model"
        )
    check_kwargs("model_kwargs", model_kwargs)
    check_int("batch_size", batch_size, minimum=1)
    check_number("head_dropout", head_dropout, 0, 1, high_open=True)
    check_int("num_classes", num_classes, minimum=1, allow_none=True)
    for arg, value in (("callbacks", callbacks), ("metrics", metrics)):
        check_type(arg, value, (list, tuple), "a list")
    splits = as_splits(data, data_kwargs)
    num_classes = splits.num_classes if num_classes is None else num_classes
    seed_everything(seed)  # Python, NumPy, TensorFlow, Keras; op determinism
    if isinstance(backbone, str):
        # Built with the target class count: a file saved with another count loads all but its head.
        model = zoo.get(backbone, input_shape=tuple(input_shape or splits.input_shape), num_classes=num_classes,
                        weights=weights, **(model_kwargs or {}))
    else:
        model = backbone
        if weights is not None:
            zoo.load_weights(model, weights)
    model = replace_head(model, num_classes, dropout=head_dropout)
    for stage in stages:  # bad block names fail here, before any training
        set_trainable(model, stage["unfreeze"], block_pattern, train_batchnorm)

    examples = len(splits.labels("train"))  # a streamed split counts its labels, decoding nothing
    histories = []
    for stage in stages:
        set_trainable(model, stage["unfreeze"], block_pattern, train_batchnorm)
        stage_batch = stage.get("batch_size", batch_size)
        lr = scheduled_learning_rate(stage["learning_rate"], stage["schedule"],
                                     _total_steps(examples, stage_batch, stage["epochs"]))
        model.compile(optimizer=make_optimizer(stage["optimizer"], lr),
                      loss="sparse_categorical_crossentropy", metrics=list(metrics))
        steps = _steps_per_epoch(examples, stage_batch)
        repeat = steps > -(-examples // stage_batch)  # few examples: an epoch is MIN_STEPS_PER_EPOCH batches
        train = splits.dataset("train", batch_size=stage_batch, seed=seed, augment=augment, repeat=repeat)
        val = splits.dataset("val", batch_size=stage_batch)
        histories.append(model.fit(train, validation_data=val, epochs=stage["epochs"], shuffle=False,
                                   steps_per_epoch=steps if repeat else None, callbacks=list(callbacks),
                                   verbose=verbose))
    test = model.evaluate(splits.dataset("test", batch_size=batch_size), verbose=0, return_dict=True)
    return TransferResult(model, histories, test, stages)


def __getattr__(name):
    """``zoo.transfer.finetune``: the whole recipe the CLI runs (:mod:`zoo.training.finetune`)."""
    if name in ("finetune", "FinetuneResult"):
        from zoo.training import finetune as engine

        return getattr(engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
