"""Word2Vec: skip-gram or CBOW with negative sampling, trained by a compiled per-pair SGD loop."""

from __future__ import annotations

import time

import numpy as np

from nlp.embeddings.base import Embeddings
from nlp.vectors import KeyedVectors
from zoo.core.checks import check_choice, check_int, check_number, fail

__all__ = ["Word2Vec"]


class Word2Vec(Embeddings):
    """Skip-gram (``sg=True``) or CBOW word2vec with negative sampling; see the module docstring.

    Pass ``sentences`` to build the vocabulary and train at once, or call
    ``build_vocab`` and ``train`` yourself. ``wv`` holds the result
    (:class:`nlp.KeyedVectors`); ``history`` the loss and words per epoch.
    ``kernel="numba"`` (default) runs gensim's per-pair SGD compiled
    (:mod:`nlp.embeddings.sgd`), on ``workers`` threads: 1 gives the same
    vectors for a seed, more run lock-free (Hogwild, like gensim's workers)
    and do not. ``kernel="tf"`` runs mini-batches of ``batch_size`` pairs as
    a ``tf.function`` (``jit_compile``: XLA), e.g. on a GPU.
    """

    _ARRAYS = ("input_weights", "output_weights")
    KERNELS = ("numba", "tf")

    def __init__(self, sentences=None, *, sg=True, vector_size=100, window=5, negative=5, min_count=5, sample=1e-3,
                 epochs=5, alpha=0.025, min_alpha=1e-4, ns_exponent=0.75, batch_size=1024, max_vocab_size=None,
                 seed=0, workers=1, kernel="numba", jit_compile=True, verbose=False):
        super().__init__(vector_size, window, min_count, max_vocab_size, epochs, seed, verbose)
        if not isinstance(sg, bool):
            fail("sg", sg, "True (skip-gram) or False (CBOW)")
        check_int("negative", negative, 1)
        check_number("sample", sample, 0)
        check_number("alpha", alpha, 0, low_open=True)
        check_number("min_alpha", min_alpha, 0, alpha)
        check_number("ns_exponent", ns_exponent, 0)
        check_int("batch_size", batch_size, 1)
        check_int("workers", workers, 1)
        check_choice("kernel", kernel, self.KERNELS)
        self.jit_compile, self.kernel, self.workers = bool(jit_compile), kernel, int(workers)
        self.sg, self.negative, self.sample = sg, int(negative), float(sample)
        self.alpha, self.min_alpha = float(alpha), float(min_alpha)
        self.ns_exponent, self.batch_size = float(ns_exponent), int(batch_size)
        self._keras = None
        if sentences is not None:
            self.train(sentences)

    def _config(self):
        return dict(sg=self.sg, vector_size=self.vector_size, window=self.window, negative=self.negative,
                    min_count=self.min_count, sample=self.sample, epochs=self.epochs, alpha=self.alpha,
                    min_alpha=self.min_alpha, ns_exponent=self.ns_exponent, batch_size=self.batch_size,
                    max_vocab_size=self.max_vocab_size, seed=self.seed, workers=self.workers, kernel=self.kernel,
                    jit_compile=self.jit_compile, verbose=self.verbose)

    # -- weights (NumPy arrays; ``keras_model`` mirrors them) ------------------------------------
    def _input_rows(self):
        return len(self.words)

    def _init_weights(self):
        rows, dim = self._input_rows(), self.vector_size
        # one extra "sink" row in each matrix: padding slots point there and are masked out
        # uniform in [-1/dim, 1/dim), as gensim 4 (the C tool: half that)
        self._w_in = self._rng.random((rows + 1, dim), dtype=np.float32)
        self._w_in *= 2
        self._w_in -= 1
        self._w_in /= dim
        self._w_in[-1] = 0
        self._w_out = np.zeros((len(self.words) + 1, dim), np.float32)
        self._sub = self._subword_table()
        self._sub_len = (self._sub < rows).sum(axis=1).astype(np.int32)
        self._keras, self._table = None, None

    def _subword_table(self):
        """Rows of the input matrix that make up each word (row ``V`` is the padding entry)."""
        return np.arange(len(self.words) + 1, dtype=np.int32)[:, None]

    @property
    def keras_model(self):
        """A Keras model (``[word, context] -> score``) whose two ``Embedding`` layers hold the weights.

        Built on first use; ``train`` refreshes its weights.
        """
        self._require_trained()
        if self._keras is None:
            import keras

            inputs = keras.Input((None,), dtype="int32", name="word")
            outputs = keras.Input((None,), dtype="int32", name="context")
            emb_in = keras.layers.Embedding(*self._w_in.shape, embeddings_initializer="zeros", name="input_embedding")
            emb_out = keras.layers.Embedding(*self._w_out.shape, embeddings_initializer="zeros",
                                             name="output_embedding")
            score = keras.layers.Dot(axes=-1, name="score")([emb_in(inputs), emb_out(outputs)])
            self._keras = keras.Model([inputs, outputs], score, name=type(self).__name__.lower())
            self._sync_keras()
        return self._keras

    def _sync_keras(self):
        if self._keras is not None:
            self._keras.get_layer("input_embedding").embeddings.assign(self._w_in)
            self._keras.get_layer("output_embedding").embeddings.assign(self._w_out)

    @property
    def input_weights(self):
        return self._w_in[:-1].copy()

    @property
    def output_weights(self):
        return self._w_out[:-1].copy()

    def _set_array(self, name, value):
        full = self._w_in if name == "input_weights" else self._w_out
        if full[:-1].shape != value.shape:
            raise ValueError(f"{name} has shape {value.shape}; the model expects {full[:-1].shape}")
        full[:-1] = value
        self._sync_keras()

    @property
    def wv(self) -> KeyedVectors:
        self._require_trained()
        return KeyedVectors(self.words, self.input_weights, counts=self.counts)

    # -- sampling -------------------------------------------------------------------------------
    def _keep_probability(self):
        if not self.sample:
            return np.ones(len(self.counts))
        threshold = self.sample * self.counts.sum()
        return np.minimum((np.sqrt(self.counts / threshold) + 1) * threshold / self.counts, 1.0)

    def _unigram_table(self):
        """Word ids repeated in proportion to count^ns_exponent (the reference C table; 2^20 to 2^27 slots)."""
        vocab = len(self.words)
        size = 1 << min(27, max(20, int(np.ceil(np.log2(100 * vocab)))))  # a power of two: drawn by a bit mask
        p = self.counts.astype(np.float64) ** self.ns_exponent
        cum = np.cumsum(p / p.sum())
        # slot i holds the first word whose cumulative share reaches (i + 0.5) / size: count the slots per word
        ends = np.minimum(np.searchsorted((np.arange(size) + 0.5) / size, cum, side="right"), size)
        ends[-1] = size
        return np.repeat(np.arange(vocab, dtype=np.int32), np.diff(ends, prepend=0))

    def _subsample(self, ids, sent):
        """One epoch's corpus: frequent words dropped (``sample``), a reduced window (1..window) drawn per word."""
        keep = self._rng.random(len(ids)) < self._keep[ids]
        ids, sent = ids[keep], sent[keep]
        return ids, sent, (self.window - self._rng.integers(0, self.window, len(ids))).astype(np.int32)

    # -- training -------------------------------------------------------------------------------
    def train(self, sentences=None, epochs=None):
        """Train (building the vocabulary first if there is none). Returns ``self``."""
        ids, sent, epochs = self._prepare(sentences, epochs)
        self._keep = self._keep_probability()
        if self._table is None:
            self._table = self._unigram_table()
        if self.kernel == "tf":
            from nlp.embeddings.tf_sgd import TFTrainer

            trainer = TFTrainer(self._w_in, self._w_out, self._sub, self.negative, self.batch_size, self.jit_compile)
        else:
            try:
                from nlp.embeddings.sgd import run_epoch
            except ImportError as err:
                raise ImportError(f"{type(self).__name__}(kernel='numba') needs numba ({err}): "
                                  "pip install numba==0.68.1, or pass kernel='tf'") from None
        span = self.alpha - self.min_alpha
        try:
            for epoch in range(epochs):
                start = time.perf_counter()
                lr0 = self.alpha - span * epoch / epochs
                lr1 = self.alpha - span * (epoch + 1) / epochs
                corpus = self._subsample(ids, sent)
                if self.kernel == "tf":
                    loss, examples = self._tf_epoch(trainer, corpus, lr0, lr1)
                else:
                    loss, examples = run_epoch(self._w_in, self._w_out, self._sub, self._sub_len, *corpus, self._table,
                                               self._rng, lr0, lr1, self.sg, self.negative, self.workers)
                seconds = time.perf_counter() - start
                self.history.append({"epoch": len(self.history) + 1, "loss": loss / max(examples, 1),
                                     "pairs": examples, "words": len(ids), "seconds": seconds})
                self._log(f"epoch {epoch + 1}/{epochs}: loss {self.history[-1]['loss']:.4f}, "
                          f"{len(ids) / seconds:,.0f} words/s")
        finally:
            if self.kernel == "tf":
                self._w_in[...], self._w_out[...] = trainer.weights()
            self._sync_keras()
        return self

    def _tf_epoch(self, trainer, corpus, lr0, lr1):
        from nlp.embeddings.tf_sgd import epoch_examples

        inputs, targets = epoch_examples(self._rng, *corpus, self.window, self.sg, len(self.words))
        loss = trainer.epoch(self._rng, inputs, targets, self._table, lr0, lr1) if len(targets) else float("nan")
        return loss, len(targets)
