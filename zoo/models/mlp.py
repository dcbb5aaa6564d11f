"""Multilayer perceptron and logistic regression (the one-layer baseline)."""

from __future__ import annotations

from zoo.core.checks import check_choice, fail
from zoo.core.naming import HEAD
from zoo.models._lazy import keras
from zoo.registry import register

HIDDEN_ACTIVATIONS = ("sigmoid", "relu", "leaky_relu", "tanh", "elu", "softmax", "gelu", "selu", "linear")

_CLASSIFIER_RECIPE = dict(
    data="digits",
    data_kwargs=dict(flat=True),
    optimizer="adam",
    learning_rate=1e-3,
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
    epochs=40,
    batch_size=32,
    schedule="cosine",  # the same on every seed: the run ends on small steps, at its best validation epoch
    restore_best=True,
)


def _mlp(
    input_shape=(64,),
    num_classes=10,
    hidden_units=(128, 64),
    activation="relu",
    dropout=0.0,
    batch_norm=False,
    task="classification",
    num_outputs=1,
    include_top=True,
    classifier_activation="softmax",
    keras=keras,
):
    """Dense stack: [Dense -> (BatchNorm) -> activation -> (Dropout)] x depth -> head.

    ``task="classification"`` ends in ``num_classes`` units with
    ``classifier_activation``; ``task="regression"`` in ``num_outputs`` linear units.
    """
    check_choice("task", task, ("classification", "regression"), owner="mlp")
    check_choice("activation", activation, HIDDEN_ACTIVATIONS, owner="mlp")
    if isinstance(hidden_units, int):
        hidden_units = (hidden_units,)
    if not all(isinstance(u, int) and u > 0 for u in hidden_units):
        fail("hidden_units", hidden_units, "a tuple of positive integers", owner="mlp")
    if task == "regression" and (not isinstance(num_outputs, int) or num_outputs < 1):
        fail("num_outputs", num_outputs, "a positive integer", owner="mlp")

    inputs = keras.Input(shape=input_shape, name="inputs")
    x = keras.layers.Flatten(name="flatten")(inputs) if len(input_shape) > 1 else inputs
    for i, units in enumerate(hidden_units):
        x = keras.layers.Dense(units, use_bias=not batch_norm, name=f"dense_{i}")(x)
        if batch_norm:
            x = keras.layers.BatchNormalization(name=f"bn_{i}")(x)
        x = keras.layers.Activation(activation, name=f"act_{i}")(x)
        if dropout:
            x = keras.layers.Dropout(dropout, name=f"dropout_{i}")(x)
    if include_top:
        if task == "classification":
            x = keras.layers.Dense(num_classes, activation=classifier_activation, name=HEAD)(x)
        else:
            x = keras.layers.Dense(num_outputs, name=HEAD)(x)
    return keras.Model(inputs, x, name="mlp")


@register(
    family="mlp",
    task="classification",
    builder=_mlp,
    paper="Rumelhart, Hinton & Williams 1986, Learning representations by back-propagating errors",
    params=17_226,
    recipe=_CLASSIFIER_RECIPE,
    reference=dict(data="digits", metric="accuracy", value=0.95),
    input_range="[0, 1]",
)
def mlp():
    """Multilayer perceptron: configurable depth, width, activation, dropout, batch norm."""
    return {}


@register(
    family="mlp",
    task="classification",
    builder=_mlp,
    paper="Cox 1958, The regression analysis of binary sequences (multinomial logistic regression)",
    params=650,
    recipe=dict(_CLASSIFIER_RECIPE, learning_rate=1e-2, epochs=60),
    reference=dict(data="digits", metric="accuracy", value=0.93),
    input_range="[0, 1]",
)
def logistic_regression():
    """Logistic (softmax) regression: one dense layer, the linear baseline."""
    return dict(hidden_units=())
