"""A text classifier that takes raw strings: tokenizer layer, (pretrained) embedding, masked mean, softmax.

>>> tok = nlp.WordTokenizer.train(unlabelled, min_frequency=2, punctuation="strip")
>>> w2v = nlp.Word2Vec(unlabelled, vector_size=50, min_count=2)
>>> model = nlp.text_classifier(tok, num_classes=2, vectors=w2v.wv)     # or vectors=None: random rows
>>> nlp.train_text_classifier(model, texts, labels, steps=100)         # Adam, full batches of strings
>>> model.predict(tf.constant(["a new sentence"]))                    # class probabilities

The tokenizer is the model's first layer (``tokenizer.as_layer``), so the model,
its ``.keras`` file and its SavedModel (``zoo.export.saved_model``) take strings.
A sentence is the mean of its tokens' vectors (padding masked out), the
"neural bag of words" baseline of text classification: with pretrained vectors a
word never seen among the labelled examples still lands near the words it
co-occurs with, which is what makes few labels go further.
"""

from __future__ import annotations

import keras

from nlp.tokenizers.base import Tokenizer
from nlp.vectors import KeyedVectors
from zoo.core.checks import check_bool, check_int, check_number, check_str, check_type

__all__ = ["text_classifier", "train_text_classifier", "MaskedMean"]


@keras.saving.register_keras_serializable(package="nlp")
class MaskedMean(keras.layers.Layer):
    """Mean over the time axis of the unmasked steps; a sequence with none (an empty string) gives zeros.

    ``keras.layers.GlobalAveragePooling1D`` divides by the number of unmasked steps,
    which is NaN for an all-padding row.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return keras.ops.mean(inputs, axis=1)
        weights = keras.ops.expand_dims(keras.ops.cast(mask, inputs.dtype), -1)
        total = keras.ops.sum(inputs * weights, axis=1)
        return total / keras.ops.maximum(keras.ops.sum(weights, axis=1), 1.0)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])


def text_classifier(tokenizer, num_classes, *, vectors=None, embedding_dim=None, trainable=True, sequence_length=64,
                    hidden_units=0, dropout=0.0, name="text_classifier") -> keras.Model:
    """A Keras model: a batch of strings ``(batch,)`` -> class probabilities ``(batch, num_classes)``.

    - ``tokenizer``: any ``nlp`` tokenizer; its layer pads/truncates to ``sequence_length`` ids.
    - ``vectors``: ``nlp.KeyedVectors`` (e.g. ``Word2Vec(...).wv``) placed in the Embedding through
      ``vectors.to_keras_embedding(tokenizer)``; ``None`` gives a randomly initialised Embedding of
      ``embedding_dim`` (default 100) columns: the baseline with the same architecture.
    - ``trainable``: whether the Embedding is fine-tuned (pretrained or not).
    - ``hidden_units``: a ReLU layer of that width before the softmax (0: none, a linear model on the
      mean vector); ``dropout``: rate on the mean vector.
    The model is not compiled.
    """
    owner = "text_classifier"
    check_type("tokenizer", tokenizer, Tokenizer, "an nlp tokenizer such as nlp.WordTokenizer", owner)
    check_int("num_classes", num_classes, 2, owner=owner)
    check_type("vectors", vectors, KeyedVectors, "nlp.KeyedVectors (such as Word2Vec(...).wv)", owner,
               allow_none=True)
    check_int("embedding_dim", embedding_dim, 1, owner=owner, allow_none=True)
    if vectors is not None and embedding_dim not in (None, vectors.vector_size):
        raise ValueError(f"{owner}: invalid embedding_dim={embedding_dim!r}; the vectors have "
                         f"{vectors.vector_size} dimensions (leave embedding_dim=None)")
    check_bool("trainable", trainable, owner)
    check_int("sequence_length", sequence_length, 1, owner=owner)
    check_int("hidden_units", hidden_units, 0, owner=owner)
    check_number("dropout", dropout, 0, 1, high_open=True, owner=owner)
    check_str("name", name, owner)

    text = keras.Input(shape=(), dtype="string", name="text")
    ids = tokenizer.as_layer(sequence_length=sequence_length, name="tokenizer")(text)
    if vectors is not None:
        embedding = vectors.to_keras_embedding(tokenizer, trainable=trainable, mask_zero=True, name="embedding")
    else:
        embedding = keras.layers.Embedding(tokenizer.vocab_size, embedding_dim or 100, mask_zero=True,
                                           trainable=trainable, name="embedding")
    x = MaskedMean(name="mean")(embedding(ids))
    if dropout:
        x = keras.layers.Dropout(dropout, name="dropout")(x)
    if hidden_units:
        x = keras.layers.Dense(hidden_units, activation="relu", name="hidden")(x)
    probs = keras.layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(text, probs, name=name)


def _texts_and_labels(texts, labels, num_classes, owner):
    """``texts`` as a list of str and ``labels`` as int32 in [0, num_classes), checked before any work."""
    import numpy as np

    if isinstance(texts, (str, bytes)) or not hasattr(texts, "__len__"):
        raise TypeError(f"{owner}: invalid texts={texts!r:.60}; expected a list of strings")
    texts = list(texts)
    bad = next((i for i, t in enumerate(texts) if not isinstance(t, str)), None)
    if bad is not None:
        raise TypeError(f"{owner}: invalid texts[{bad}]={texts[bad]!r:.60}; expected a string")
    if not texts:
        raise ValueError(f"{owner}: texts is empty; expected at least one labelled string")
    try:
        y = np.asarray(labels)
    except (TypeError, ValueError):
        y = np.asarray(None)
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise TypeError(f"{owner}: invalid labels={labels!r:.60}; expected a 1-D sequence of integer class ids")
    if len(y) != len(texts):
        raise ValueError(f"{owner}: got {len(texts)} texts but {len(y)} labels; expected one label per text")
    out = y[(y < 0) | (y >= num_classes)]
    if len(out):
        raise ValueError(f"{owner}: invalid labels {out[:5].tolist()}; expected class ids in [0, {num_classes})")
    return texts, y.astype("int32")


def train_text_classifier(model, texts, labels, *, steps=100, batch_size=32, learning_rate=1e-2, seed=0):
    """Compile ``model`` (Adam, sparse cross-entropy, accuracy) and fit it for ``steps`` batches of raw strings.

    Batches of ``min(batch_size, len(texts))`` strings, reshuffled by ``seed``
    each pass. Not XLA-compiled: string ops do not compile. Returns the Keras ``History``.
    """
    import tensorflow as tf

    owner = "train_text_classifier"
    if not isinstance(model, keras.Model):
        raise TypeError(f"{owner}: invalid model={model!r:.60}; expected a keras.Model such as nlp.text_classifier(...)")
    num_classes = int(model.outputs[0].shape[-1])
    texts, y = _texts_and_labels(texts, labels, num_classes, owner)
    check_int("steps", steps, 1, owner=owner)
    check_int("batch_size", batch_size, 1, owner=owner)
    check_number("learning_rate", learning_rate, 0, low_open=True, owner=owner)
    check_int("seed", seed, 0, owner=owner)
    model.compile(keras.optimizers.Adam(learning_rate), "sparse_categorical_crossentropy", metrics=["accuracy"],
                  jit_compile=False)
    data = (tf.data.Dataset.from_tensor_slices((tf.constant(texts), y))
            .shuffle(len(texts), seed=seed, reshuffle_each_iteration=True)
            .batch(min(batch_size, len(texts))).repeat())
    return model.fit(data, steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)  # the pipeline shuffles
