"""Recurrent networks: ``simple_rnn``, ``lstm``, ``gru`` sequence models and ``char_lstm``.

One class builds them all, :class:`RecurrentNet`:

- ``task="classification"`` / ``"regression"``: a stack of recurrent layers
  (optionally bidirectional) reads a sequence (B, T, features) and the last
  state feeds the head. Images (B, H, W, C) are read row by row (T=H).
- ``task="language-model"``: token ids (B, T) -> embedding -> recurrent stack ->
  next-token logits (B, T, vocab) at every step; ``generate(prompt, length,
  temperature, top_k)`` samples a continuation (``char_lstm``, Karpathy 2015).

``model.streaming(batch_size)`` returns the same weights in a *stateful* model
that consumes one step or chunk at a time and carries its state across calls:
feeding a sequence in chunks gives what the whole sequence gives (tested to 1e-5).
"""

from __future__ import annotations

import numpy as np

from zoo.core.checks import check_choice, check_int
from zoo.core.naming import HEAD
from zoo.models._lazy import declared_class, keras, keras_class
from zoo.models.transformer import LM_LOSS
from zoo.registry import register

__all__ = ["RecurrentNet", "CELLS", "TASKS"]  # noqa: F822  (classes from __getattr__)

#: cell name -> its keras.layers class name
CELLS = {"simple_rnn": "SimpleRNN", "lstm": "LSTM", "gru": "GRU"}
TASKS = ("classification", "regression", "language-model")


def _positive_int(arg, value):
    check_int(arg, value, minimum=1, owner="recurrent")


class _RecurrentNet:  # + keras.Model: the class RecurrentNet, made on first use (zoo.models._lazy)
    """Stacked SimpleRNN / LSTM / GRU for sequence classification, regression or language modelling."""

    def __init__(
        self,
        input_shape=(8, 8),
        num_classes=10,
        cell="lstm",
        units=64,
        num_layers=1,
        bidirectional=False,
        dropout=0.0,
        task="classification",
        num_outputs=1,
        include_top=True,
        classifier_activation="softmax",
        vocab_size=None,
        vocabulary=None,
        embedding_dim=64,
        stateful=False,
        batch_size=None,
        **kwargs,
    ):
        from zoo.layers.sampling import CharVocabulary

        check_choice("cell", cell, CELLS, owner="recurrent")
        check_choice("task", task, TASKS, owner="recurrent")
        for arg, value in (("units", units), ("num_layers", num_layers), ("embedding_dim", embedding_dim)):
            _positive_int(arg, value)
        if stateful:
            _positive_int("batch_size", batch_size)
            if bidirectional:
                raise ValueError(
                    "recurrent: invalid stateful=True with bidirectional=True: a backward pass needs the whole "
                    "sequence, so it cannot stream; expected bidirectional=False"
                )
        vocab = CharVocabulary(vocabulary) if vocabulary is not None else None
        if task == "language-model":
            vocab_size = len(vocab) if vocab is not None else vocab_size
            _positive_int("vocab_size", vocab_size)
            inputs = keras.Input(batch_shape=(batch_size, None), dtype="int32", name="token_ids")
            x = keras.layers.Embedding(vocab_size, embedding_dim, name="token_embedding")(inputs)
        else:
            inputs = keras.Input(batch_shape=(batch_size, *_stream_shape(input_shape, stateful)), name="inputs")
            x = inputs
            if len(input_shape) == 3:  # an image read row by row: (H, W, C) -> (H, W*C)
                x = keras.layers.Reshape((-1, input_shape[1] * input_shape[2]), name="rows")(x)
            elif len(input_shape) != 2:
                raise ValueError(
                    f"recurrent: invalid input_shape={tuple(input_shape)!r}; expected (steps, features) "
                    "or an image (height, width, channels)"
                )
        every_step = task == "language-model"
        for i in range(num_layers):
            layer = getattr(keras.layers, CELLS[cell])(
                units, return_sequences=every_step or i < num_layers - 1, dropout=dropout, stateful=stateful,
                name=f"{cell}_{i}",
            )
            x = keras.layers.Bidirectional(layer, name=f"bidirectional_{i}")(x) if bidirectional else layer(x)
        if task == "language-model":
            x = keras.layers.Dense(vocab_size, name="logits")(x)
        elif include_top and task == "classification":
            x = keras.layers.Dense(num_classes, activation=classifier_activation, name=HEAD)(x)
        elif include_top:
            x = keras.layers.Dense(num_outputs, name=HEAD)(x)
        kwargs.setdefault("name", cell if task != "language-model" else f"char_{cell}")
        super().__init__(inputs=inputs, outputs=x, **kwargs)
        self.task = task
        self.vocab_size = vocab_size
        self.vocabulary = vocab
        self._args = dict(
            input_shape=tuple(input_shape), num_classes=num_classes, cell=cell, units=units, num_layers=num_layers,
            bidirectional=bidirectional, dropout=dropout, task=task, num_outputs=num_outputs,
            include_top=include_top, classifier_activation=classifier_activation, vocab_size=vocab_size,
            vocabulary=vocabulary, embedding_dim=embedding_dim, stateful=stateful, batch_size=batch_size,
        )

    def get_config(self):
        return {"name": self.name, "trainable": self.trainable, **self._args}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def streaming(self, batch_size=1):
        """A stateful copy with these weights that reads a sequence one step or chunk per call.

        Call it on consecutive chunks (B, t, ...) of the same ``batch_size`` sequences; it
        keeps the recurrent state between calls. ``reset_state()`` starts new sequences.
        """
        twin = type(self)(**{**self._args, "stateful": True, "batch_size": batch_size}, name=f"{self.name}_stream")
        twin.set_weights(self.get_weights())
        return twin

    def reset_state(self):
        """Zero the carried state of every recurrent layer (stateful models)."""
        for layer in self.layers:
            if isinstance(layer, keras.layers.RNN) and layer.stateful:
                layer.reset_state()

    def generate(self, prompt, length=100, temperature=1.0, top_k=None, seed=None):
        """Continue ``prompt`` (text with a ``vocabulary``, else token ids) by ``length`` sampled tokens.

        Reads the prompt once and then one token per step through a streaming copy.
        Returns the prompt followed by the continuation (text for a text prompt).
        """
        from zoo.layers.sampling import as_prompt_ids, check_sampling_args, generate_tokens

        if self.task != "language-model":
            raise ValueError(f"{self.name}: generate() needs task='language-model', this model has task={self.task!r}")
        ids = as_prompt_ids(prompt, self.vocab_size, self.vocabulary, self.name)
        check_sampling_args(temperature, top_k, self.vocab_size, length)
        stream = self.streaming(batch_size=1)

        def step(new_ids, _):
            return keras.ops.convert_to_numpy(stream(new_ids, training=False)[:, -1]), None

        new = generate_tokens(step, ids, length, temperature, top_k, seed)
        out = np.concatenate([ids, new])
        return self.vocabulary.decode(out) if isinstance(prompt, str) else out


_new_recurrent_net = keras_class(__name__, "RecurrentNet", _RecurrentNet)


def __getattr__(attr):  # the Keras classes, made on first use
    return declared_class(__name__, attr)


def _stream_shape(input_shape, stateful):
    shape = tuple(input_shape)
    return (None, *shape[1:]) if stateful else shape


def _lm_example(model, batch, rng, length=12):
    x = rng.integers(0, model.vocab_size, size=(batch, length + 1)).astype("int32")
    return x[:, :-1], x[:, 1:]


_PAPER = {
    "simple_rnn": "Elman 1990, Finding structure in time",
    "lstm": "Hochreiter & Schmidhuber 1997, Long short-term memory",
    "gru": "Cho et al. 2014, Learning phrase representations using RNN encoder-decoder (GRU)",
}
_DIGIT_ROWS_RECIPE = dict(
    data="digits", optimizer="adam", learning_rate=3e-3, loss="sparse_categorical_crossentropy",
    metrics=["accuracy"], epochs=15, batch_size=32,
    schedule="cosine", restore_best=True,  # seed-robust: small last steps, the best validation epoch kept
)


def _sequence_entry(cell, params, accuracy, suites=("quick", "full")):
    def entry():
        return dict(cell=cell)

    entry.__doc__ = (f"{_PAPER[cell].split(',')[0]}'s {cell} sequence classifier/regressor "
                     "(stacked, bidirectional option, streaming)")
    return register(
        cell, family="recurrent", task="classification", builder=_new_recurrent_net, paper=_PAPER[cell],
        params=params, recipe=dict(_DIGIT_ROWS_RECIPE, suites=suites),
        reference=dict(data="digits (rows as a sequence)", metric="accuracy", value=accuracy),
        input_range="[0, 1]",
    )(entry)


simple_rnn = _sequence_entry("simple_rnn", 5_322, 0.85, suites=("full",))
lstm = _sequence_entry("lstm", 19_338, 0.88)
gru = _sequence_entry("gru", 14_858, 0.9, suites=("full",))


@register(
    family="recurrent", task="language-model", builder=_new_recurrent_net, paper="Karpathy 2015, The unreasonable "
    "effectiveness of recurrent neural networks (char-rnn)", params=895_104,
    recipe=dict(optimizer="adam", learning_rate=3e-3, loss=LM_LOSS, batch_size=32),
    test_config=dict(units=32, num_layers=1), example=_lm_example,
)
def char_lstm():
    """Character-level LSTM language model with generate(prompt, length, temperature, top_k) and streaming."""
    return dict(task="language-model", cell="lstm", vocab_size=128, embedding_dim=64, units=256, num_layers=2)
