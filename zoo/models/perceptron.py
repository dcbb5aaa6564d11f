"""Rosenblatt's perceptron: one layer, a step activation, the perceptron learning rule.

Training does not use gradients (the step function has none): ``train_step``
applies Rosenblatt's rule ``w <- w + lr * (y - y_hat) * x`` for binary labels
and its multiclass form (``w_y += lr * x``, ``w_y_hat -= lr * x`` on a mistake)
otherwise. It converges on linearly separable data (Novikoff 1962) and cannot
learn XOR (Minsky & Papert 1969): no line separates XOR's classes.
"""

from __future__ import annotations

from zoo.models._lazy import declared_class, keras, keras_class, ops
from zoo.registry import register

__all__ = ["Perceptron"]  # noqa: F822  (classes from __getattr__)


class _Perceptron:  # + keras.Model: the class Perceptron, made on first use (zoo.models._lazy)
    """Single-layer perceptron. Outputs 0/1 (binary) or a one-hot class (multiclass)."""

    def __init__(self, num_classes=2, learning_rate=1.0, **kwargs):
        super().__init__(**kwargs)
        self.num_classes = num_classes
        self.learning_rate = learning_rate
        self.units = 1 if num_classes == 2 else num_classes
        self.linear = keras.layers.Dense(self.units, kernel_initializer="zeros", name="linear")
        self.mistake_rate = keras.metrics.Mean(name="loss")

    def build(self, input_shape):
        self.linear.build(input_shape)
        self.built = True

    def scores(self, x):
        return self.linear(ops.reshape(x, (ops.shape(x)[0], -1)))

    def call(self, x):
        s = self.scores(x)
        if self.units == 1:
            return ops.cast(s > 0, "float32")
        return ops.one_hot(ops.argmax(s, axis=-1), self.units)

    @property
    def metrics(self):
        # The mistake rate stands in for the loss the perceptron does not have.
        return [self.mistake_rate, *super().metrics]

    def _mistakes(self, x, y):
        x = ops.reshape(ops.cast(x, "float32"), (ops.shape(x)[0], -1))
        y = ops.reshape(ops.cast(y, "int32"), (-1,))
        y_pred = self(x)
        if self.units == 1:
            error = ops.cast(y, "float32")[:, None] - y_pred  # in {-1, 0, 1}
        else:
            error = ops.one_hot(y, self.units) - y_pred  # +1 on the true class, -1 on the guess
        self.mistake_rate.update_state(ops.cast(ops.any(error != 0, axis=-1), "float32"))
        return x, y, y_pred, error

    def train_step(self, data):
        x, y, y_pred, error = self._mistakes(data[0], data[1])
        self.linear.kernel.assign_add(self.learning_rate * ops.matmul(ops.transpose(x), error))
        self.linear.bias.assign_add(self.learning_rate * ops.sum(error, axis=0))
        return self.compute_metrics(x, y, y_pred)

    def test_step(self, data):
        x, y, y_pred, _ = self._mistakes(data[0], data[1])
        return self.compute_metrics(x, y, y_pred)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes, "learning_rate": self.learning_rate}


_new_perceptron = keras_class(__name__, "Perceptron", _Perceptron)


def __getattr__(attr):  # the Keras classes, made on first use
    return declared_class(__name__, attr)


def _perceptron(input_shape=(2,), num_classes=2, learning_rate=1.0):
    model = _new_perceptron(num_classes=num_classes, learning_rate=learning_rate, name="perceptron")
    model.build((None, *input_shape))
    return model


@register(
    family="perceptron",
    task="classification",
    paper="Rosenblatt 1958, The perceptron: a probabilistic model for information storage",
    params=3,
    recipe=dict(
        data="linear",
        metrics=["accuracy"],
        epochs=5,
        batch_size=1,
        model_kwargs=dict(input_shape=(2,), num_classes=2),
    ),
    reference=dict(data="linear", metric="accuracy", value=1.0),
    input_range="any real",
)
def perceptron(input_shape=(2,), num_classes=2, learning_rate=1.0):
    """Rosenblatt perceptron trained with the perceptron learning rule (not gradients)."""
    return _perceptron(input_shape=input_shape, num_classes=num_classes, learning_rate=learning_rate)
