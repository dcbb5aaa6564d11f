"""Transfer learning: feature extraction, then fine-tuning the top blocks of a backbone.

``fine_tune(backbone, data, num_classes, weights=path, stages=[...])`` takes a
registered image model's name (or a built Keras model), loads local pretrained
weights, replaces its classification head with a fresh one for ``num_classes``
and trains in stages, as the Keras transfer-learning guide and timm recipes do:

1. feature extraction: the backbone frozen, only the new head trains;
2. fine-tuning: the top ``N`` blocks unfrozen too, with a lower learning rate.

A stage is a dict: ``unfreeze`` (``0``/``"head"``: head only; ``N``: the top N
blocks, plus the layers after the last block; a list of block names; ``"all"``),
``epochs``, ``learning_rate``, ``schedule`` (``"constant"`` or ``"cosine"``: decayed
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

import keras
import numpy as np

from zoo.core.checks import check_int
from zoo.core.naming import HEAD, block_regex

__all__ = ["TransferResult", "fine_tune", "as_splits", "blocks", "set_trainable", "replace_head", "digits_transfer_experiment"]

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
    check_int("num_classes", num_classes, minimum=1)
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


def _total_steps(examples, batch_size, epochs):
    """Optimizer steps of ``epochs`` passes over ``examples`` in batches (the last one may be short)."""
    return epochs * -(-examples // batch_size)


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
    splits = as_splits(data, data_kwargs)
    num_classes = splits.num_classes if num_classes is None else num_classes
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 1:
        raise ValueError(f"invalid num_classes={num_classes!r}; expected a positive integer")
    keras.utils.set_random_seed(seed)
    if isinstance(backbone, str):
        # Built with the target class count: a file saved with another count loads all but its head.
        model = zoo.get(backbone, input_shape=tuple(input_shape or splits.input_shape), num_classes=num_classes,
                        weights=weights, **(model_kwargs or {}))
    elif isinstance(backbone, keras.Model):
        model = backbone
        if weights is not None:
            zoo.load_weights(model, weights)
    else:
        raise ValueError(
            f"invalid backbone={backbone!r}; expected a registered model name (zoo.list_models()) or a keras.Model"
        )
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
        train = splits.dataset("train", batch_size=stage_batch, seed=seed, augment=augment)  # shuffled each pass
        val = splits.dataset("val", batch_size=stage_batch)
        histories.append(model.fit(train, validation_data=val, epochs=stage["epochs"], shuffle=False,
                                   callbacks=list(callbacks), verbose=verbose))
    test = model.evaluate(splits.dataset("test", batch_size=batch_size), verbose=0, return_dict=True)
    return TransferResult(model, histories, test, stages)


def __getattr__(name):
    """``zoo.transfer.finetune``: the whole recipe the CLI runs (:mod:`zoo.training.finetune`)."""
    if name in ("finetune", "FinetuneResult"):
        from zoo.training import finetune as engine

        return getattr(engine, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --------------------------------------------------------------------------- the digits demonstration


def _subset(x, y, fraction, seed):
    """A stratified ``fraction`` of ``(x, y)`` (at least one example per class)."""
    rng = np.random.default_rng(seed)
    keep = []
    for c in np.unique(y):
        idx = np.flatnonzero(y == c)
        keep.extend(rng.choice(idx, size=max(1, int(round(fraction * len(idx)))), replace=False))
    keep = np.sort(np.asarray(keep))
    return x[keep], y[keep]


def digits_transfer_experiment(backbone="simple_cnn", label_fraction=0.1, pretrain_epochs=30, stages=None,
                               model_kwargs=None, image_size=16, augment=True, scratch_epochs=None,
                               train_batchnorm=True, seed=0, workdir=None, verbose=0) -> dict:
    """Pretrain on digits 0-4, transfer to digits 5-9 with ``label_fraction`` of their labels.

    The same architecture is also trained from scratch on those labels with the same
    augmentation, optimizer (Adam, cosine decay) and batch size (8), for as many epochs as
    all transfer stages together, at the learning rate that suits random weights (3e-3
    against the stages' 1e-2 head-only, 1e-3 fine-tuning). Returns the test
    accuracies on digits 5-9 (``transfer``, ``scratch``, and ``scratch_unaugmented``: the
    same without augmentation, which may suit so few labels better), the source model's on 0-4,
    the labelled examples used, and the histories.

    ``augment=True`` uses ``zoo.data.augmentation(translate=0.12, rotate=0.04, zoom=0.1)``
    (or pass a callable; ``False`` for none) in all three trainings: features
    pretrained on shifted and rotated 0-4 are what carries over to 5-9. The digits are
    upsampled to ``image_size`` so that a few pixels of shift are a small change.
    """
    import os
    import tempfile

    import zoo
    from zoo import data as zdata
    from zoo.core.recipe import scheduled_learning_rate

    if not 0 < label_fraction <= 1:
        raise ValueError(f"invalid label_fraction={label_fraction!r}; expected a number in (0, 1]")
    stages = _check_stages(stages or [dict(unfreeze=0, epochs=5, learning_rate=1e-2),
                                      dict(unfreeze="all", epochs=35, learning_rate=1e-3, schedule="cosine")])
    if augment is True:
        augment = zdata.augmentation(translate=0.12, rotate=0.04, zoom=0.1)
    elif augment is False:
        augment = None
    splits = zdata.load("digits", image_size=image_size, seed=seed)
    model_kwargs = dict(model_kwargs or {})

    def part(pair, low):
        x, y = pair
        mask = (y < 5) if low else (y >= 5)
        return x[mask], (y[mask] - (0 if low else 5)).astype("int32")

    source = [part(p, True) for p in splits]
    target = [part(p, False) for p in splits]
    few = _subset(*target[0], label_fraction, seed)
    input_shape = splits.input_shape

    def trained(model, pair, learning_rate, epochs, batch_size, validation_data=None, aug=augment):
        """Adam with cosine decay over the run, on augmented batches."""
        lr = scheduled_learning_rate(learning_rate, "cosine", _total_steps(len(pair[1]), batch_size, epochs))
        model.compile(optimizer=keras.optimizers.Adam(lr),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        train = zdata.as_dataset(*pair, batch_size=batch_size, seed=seed, augment=aug)
        return model.fit(train, validation_data=validation_data, epochs=epochs, shuffle=False, verbose=verbose)

    keras.utils.set_random_seed(seed)
    pre = zoo.get(backbone, input_shape=input_shape, num_classes=5, **model_kwargs)
    pre_hist = trained(pre, source[0], 2e-3, pretrain_epochs, 16, validation_data=source[1])
    source_acc = pre.evaluate(*source[2], verbose=0, return_dict=True)["accuracy"]

    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        path = os.path.join(tmp, f"{backbone}_digits0-4.weights.h5")
        pre.save_weights(path)
        model = zoo.get(backbone, input_shape=input_shape, num_classes=5, **model_kwargs)
        # fine_tune on a built model: load the pretrained file, swap the head, train in stages.
        result = fine_tune(model, (few, target[1], target[2]), num_classes=5, weights=path, stages=stages,
                           batch_size=8, train_batchnorm=train_batchnorm, augment=augment, seed=seed,
                           verbose=verbose)

    def from_scratch(aug):
        keras.utils.set_random_seed(seed)
        scratch = zoo.get(backbone, input_shape=input_shape, num_classes=5, **model_kwargs)
        # The same budget as all transfer stages together (scratch_epochs to change it), in small batches so
        # that it converges and its batch-norm statistics settle; no validation labels (it has only ``few``).
        hist = trained(scratch, few, 3e-3, scratch_epochs or sum(s["epochs"] for s in stages), 8, aug=aug)
        return float(scratch.evaluate(*target[2], verbose=0, return_dict=True)["accuracy"]), hist

    scratch_acc, scratch_hist = from_scratch(augment)
    # Augmentation can hurt a model trained from scratch on so few labels: report that baseline too.
    plain_acc = from_scratch(None)[0] if augment is not None else scratch_acc
    return {
        "transfer": float(result.test["accuracy"]),
        "scratch": scratch_acc,
        "scratch_unaugmented": plain_acc,
        "source": float(source_acc),
        "labelled": int(len(few[1])),
        "histories": {"pretrain": pre_hist.history, "scratch": scratch_hist.history,
                      **{f"stage{i + 1}": h.history for i, h in enumerate(result.histories)}},
    }
