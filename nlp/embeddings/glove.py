"""GloVe: weighted least squares on log co-occurrence counts, fitted with ``model.fit`` and AdaGrad."""

from __future__ import annotations

import numpy as np

from nlp.embeddings.base import Embeddings
from nlp.vectors import KeyedVectors
from zoo.core.checks import check_int, check_number

__all__ = ["GloVe"]


class GloVe(Embeddings):
    """GloVe: weighted least squares on the log co-occurrence counts, fitted by a Keras model.

    ``x_max`` and ``power`` shape the weighting ``f(x) = min(1, (x / x_max) ** power)``;
    ``learning_rate`` is AdaGrad's. ``keras_model`` is the fitted model,
    ``cooccurrence`` the sparse matrix it was fitted to.
    """

    _ARRAYS = ("word_weights", "context_weights")

    def __init__(self, sentences=None, *, vector_size=100, window=10, min_count=5, x_max=100.0, power=0.75,
                 epochs=25, learning_rate=0.05, batch_size=4096, max_vocab_size=None, seed=0, verbose=False):
        super().__init__(vector_size, window, min_count, max_vocab_size, epochs, seed, verbose)
        check_number("x_max", x_max, 0, low_open=True)
        check_number("power", power, 0)
        check_number("learning_rate", learning_rate, 0, low_open=True)
        check_int("batch_size", batch_size, 1)
        self.x_max, self.power, self.learning_rate = float(x_max), float(power), float(learning_rate)
        self.batch_size = int(batch_size)
        self.cooccurrence = None
        if sentences is not None:
            self.train(sentences)

    def _config(self):
        return dict(vector_size=self.vector_size, window=self.window, min_count=self.min_count, x_max=self.x_max,
                    power=self.power, epochs=self.epochs, learning_rate=self.learning_rate,
                    batch_size=self.batch_size, max_vocab_size=self.max_vocab_size, seed=self.seed,
                    verbose=self.verbose)

    def _init_weights(self):
        import keras

        vocab, dim = len(self.words), self.vector_size
        init = keras.initializers.RandomUniform(-0.5 / dim, 0.5 / dim, seed=self.seed)
        i = keras.Input((), dtype="int32", name="word")
        j = keras.Input((), dtype="int32", name="context")
        self._emb = keras.layers.Embedding(vocab, dim, embeddings_initializer=init, name="word_embedding")
        self._ctx = keras.layers.Embedding(vocab, dim, embeddings_initializer=init, name="context_embedding")
        bias_i = keras.layers.Embedding(vocab, 1, embeddings_initializer="zeros", name="word_bias")(i)
        bias_j = keras.layers.Embedding(vocab, 1, embeddings_initializer="zeros", name="context_bias")(j)
        dot = keras.layers.Dot(axes=-1, name="dot")([self._emb(i), self._ctx(j)])
        pred = keras.layers.Add(name="log_count")([dot, bias_i, bias_j])
        self.keras_model = keras.Model([i, j], pred, name="glove")

    @property
    def word_weights(self):
        return self._emb.embeddings.numpy()

    @property
    def context_weights(self):
        return self._ctx.embeddings.numpy()

    def _set_array(self, name, value):
        layer = self._emb if name == "word_weights" else self._ctx
        if tuple(layer.embeddings.shape) != value.shape:
            raise ValueError(f"{name} has shape {value.shape}; the model expects {tuple(layer.embeddings.shape)}")
        layer.embeddings.assign(value)

    @property
    def wv(self) -> KeyedVectors:
        self._require_trained()
        return KeyedVectors(self.words, self.word_weights + self.context_weights, counts=self.counts)

    def build_cooccurrence(self, ids, sent):
        """Symmetric co-occurrence counts within ``window``, each pair weighted 1/distance (scipy COO)."""
        from scipy import sparse

        rows, cols, vals = [], [], []
        n = len(ids)
        for d in range(1, min(self.window, n - 1) + 1):
            left = np.arange(n - d)
            same = sent[left] == sent[left + d]
            a, b = ids[left[same]], ids[left[same] + d]
            rows += [a, b]
            cols += [b, a]
            vals.append(np.full(2 * len(a), 1.0 / d, np.float32))
        if not vals or not sum(len(v) for v in vals):
            raise ValueError(f"no two vocabulary words occur within window={self.window} of each other")
        vocab = len(self.words)
        matrix = sparse.coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                                   shape=(vocab, vocab)).tocsr().tocoo()  # sums duplicates
        return matrix

    def train(self, sentences=None, epochs=None):
        """Count co-occurrences and fit; ``history`` gets the loss per epoch. Returns ``self``."""
        import keras

        ids, sent, epochs = self._prepare(sentences, epochs)
        self.cooccurrence = x = self.build_cooccurrence(ids, sent)
        weight = np.minimum(1.0, (x.data / self.x_max) ** self.power).astype(np.float32)
        target = np.log(x.data).astype(np.float32)[:, None]
        self.keras_model.compile(optimizer=keras.optimizers.Adagrad(self.learning_rate, initial_accumulator_value=1e-8),
                                 loss=keras.losses.MeanSquaredError(reduction="sum"))
        fit = self.keras_model.fit([x.row.astype(np.int32), x.col.astype(np.int32)], target, sample_weight=weight,
                                   batch_size=self.batch_size, epochs=epochs, shuffle=True,
                                   verbose=int(bool(self.verbose)))
        start = len(self.history)
        self.history += [{"epoch": start + e + 1, "loss": float(v) / self.batch_size}
                         for e, v in enumerate(fit.history["loss"])]
        return self
