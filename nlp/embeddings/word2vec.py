"""Word2Vec: skip-gram or CBOW with negative sampling, one ``tf.function`` loop per chunk of SGD steps."""

from __future__ import annotations

import time

import numpy as np

from nlp.embeddings.base import Embeddings
from nlp.vectors import KeyedVectors
from zoo.core.checks import check_int, check_number, fail

__all__ = ["Word2Vec"]


class Word2Vec(Embeddings):
    """Skip-gram (``sg=True``) or CBOW word2vec with negative sampling; see the module docstring.

    Pass ``sentences`` to build the vocabulary and train at once, or call
    ``build_vocab`` and ``train`` yourself. ``wv`` holds the result
    (:class:`nlp.KeyedVectors`); ``history`` the loss and pairs/s per epoch.
    """

    _ARRAYS = ("input_weights", "output_weights")
    CHUNK_STEPS = 16  # SGD steps per compiled call

    def __init__(self, sentences=None, *, sg=True, vector_size=100, window=5, negative=5, min_count=5, sample=1e-3,
                 epochs=5, alpha=0.025, min_alpha=1e-4, ns_exponent=0.75, batch_size=1024, max_vocab_size=None,
                 seed=0, jit_compile=True, verbose=False):
        super().__init__(vector_size, window, min_count, max_vocab_size, epochs, seed, verbose)
        self.jit_compile = bool(jit_compile)
        if not isinstance(sg, bool):
            fail("sg", sg, "True (skip-gram) or False (CBOW)")
        check_int("negative", negative, 1)
        check_number("sample", sample, 0)
        check_number("alpha", alpha, 0, low_open=True)
        check_number("min_alpha", min_alpha, 0, alpha)
        check_number("ns_exponent", ns_exponent, 0)
        check_int("batch_size", batch_size, 1)
        self.sg, self.negative, self.sample = sg, int(negative), float(sample)
        self.alpha, self.min_alpha = float(alpha), float(min_alpha)
        self.ns_exponent, self.batch_size = float(ns_exponent), int(batch_size)
        self.keras_model = None
        if sentences is not None:
            self.train(sentences)

    def _config(self):
        return dict(sg=self.sg, vector_size=self.vector_size, window=self.window, negative=self.negative,
                    min_count=self.min_count, sample=self.sample, epochs=self.epochs, alpha=self.alpha,
                    min_alpha=self.min_alpha, ns_exponent=self.ns_exponent, batch_size=self.batch_size,
                    max_vocab_size=self.max_vocab_size, seed=self.seed, jit_compile=self.jit_compile,
                    verbose=self.verbose)

    # -- weights --------------------------------------------------------------------------------
    def _input_rows(self):
        return len(self.words)

    def _init_weights(self):
        import keras
        import tensorflow as tf

        rows, dim = self._input_rows(), self.vector_size
        # one extra "sink" row in each matrix: padding slots point there and are masked out
        w_in = self._rng.uniform(-0.5, 0.5, (rows + 1, dim)).astype(np.float32) / dim
        w_in[-1] = 0
        self._sub = tf.constant(self._subword_table())
        inputs = keras.Input((None,), dtype="int32", name="word")
        outputs = keras.Input((None,), dtype="int32", name="context")
        emb_in = keras.layers.Embedding(rows + 1, dim, name="input_embedding")
        emb_out = keras.layers.Embedding(len(self.words) + 1, dim, embeddings_initializer="zeros",
                                         name="output_embedding")
        score = keras.layers.Dot(axes=-1, name="score")([emb_in(inputs), emb_out(outputs)])
        self.keras_model = keras.Model([inputs, outputs], score, name=type(self).__name__.lower())
        emb_in.embeddings.assign(w_in)
        self._w_in, self._w_out = emb_in.embeddings.value, emb_out.embeddings.value
        self._epoch_fn, self._table = None, None

    def _subword_table(self):
        """Rows of the input matrix that make up each word (row ``V`` is the padding entry)."""
        table = np.arange(len(self.words) + 1, dtype=np.int32)[:, None]
        return table

    @property
    def input_weights(self):
        return self._w_in.numpy()[:-1]

    @property
    def output_weights(self):
        return self._w_out.numpy()[:-1]

    def _set_array(self, name, value):
        var = self._w_in if name == "input_weights" else self._w_out
        full = var.numpy()
        if full[:-1].shape != value.shape:
            raise ValueError(f"{name} has shape {value.shape}; the model expects {full[:-1].shape}")
        full[:-1] = value
        var.assign(full)

    @property
    def wv(self) -> KeyedVectors:
        self._require_trained()
        return KeyedVectors(self.words, self.input_weights)

    # -- pairs ----------------------------------------------------------------------------------
    def _keep_probability(self):
        if not self.sample:
            return np.ones(len(self.counts))
        threshold = self.sample * self.counts.sum()
        return np.minimum((np.sqrt(self.counts / threshold) + 1) * threshold / self.counts, 1.0)

    def _epoch_examples(self, ids, sent):
        """(inputs (P, C), targets (P,)) for one epoch, built with array operations."""
        rng, pad, window = self._rng, len(self.words), self.window
        keep = rng.random(len(ids)) < self._keep[ids]
        ids, sent = ids[keep], sent[keep]
        n = len(ids)
        reach = window - rng.integers(0, window, n)  # the reduced window of each centre word, in 1..window
        if self.sg:
            inputs, targets = [], []
        else:
            context = np.full((n, 2 * window), pad, np.int32)
        for d in range(1, min(window, n - 1) + 1):
            left = np.arange(n - d)
            right = left + d
            same = sent[left] == sent[right]
            forward = same & (reach[left] >= d)   # centre left, context right
            backward = same & (reach[right] >= d)  # centre right, context left
            if self.sg:  # like gensim: the context word's vector predicts the centre word
                inputs += [ids[right[forward]], ids[left[backward]]]
                targets += [ids[left[forward]], ids[right[backward]]]
            else:
                context[left[forward], window + d - 1] = ids[right[forward]]
                context[right[backward], window - d] = ids[left[backward]]
        if self.sg:
            inputs = np.concatenate(inputs)[:, None] if inputs else np.zeros((0, 1), np.int32)
            targets = np.concatenate(targets) if targets else np.zeros(0, np.int32)
        else:
            has = (context != pad).any(axis=1)
            inputs, targets = context[has], ids[has]
        order = rng.permutation(len(targets))
        return inputs[order].astype(np.int32), targets[order].astype(np.int32)

    # -- training -------------------------------------------------------------------------------
    def train(self, sentences=None, epochs=None):
        """Train (building the vocabulary first if there is none). Returns ``self``."""
        ids, sent, epochs = self._prepare(sentences, epochs)
        self._keep = self._keep_probability()
        span = self.alpha - self.min_alpha
        for epoch in range(epochs):
            start = time.perf_counter()
            inputs, targets = self._epoch_examples(ids, sent)
            lr0 = self.alpha - span * epoch / epochs
            lr1 = self.alpha - span * (epoch + 1) / epochs
            loss = self._run_epoch(inputs, targets, lr0, lr1) if len(targets) else float("nan")
            seconds = time.perf_counter() - start
            self.history.append({"epoch": len(self.history) + 1, "loss": loss / max(len(targets), 1),
                                 "pairs": len(targets), "words": len(ids), "seconds": seconds})
            self._log(f"epoch {epoch + 1}/{epochs}: loss {self.history[-1]['loss']:.4f}, "
                      f"{len(ids) / seconds:,.0f} words/s")
        return self

    def _compiled_chunk(self):
        """One XLA-compiled function that runs ``CHUNK_STEPS`` SGD steps of ``batch_size`` examples.

        Shapes are fixed (a short last chunk is padded with zero-weight examples), so
        it compiles once.
        """
        import tensorflow as tf

        if self._epoch_fn is not None:
            return self._epoch_fn
        w_in, w_out, sub = self._w_in, self._w_out, self._sub
        sink, k, dim = int(w_in.shape[0]) - 1, self.negative, self.vector_size
        identity = int(sub.shape[1]) == 1  # plain word2vec: a word is one row
        labels = tf.constant([1.0] + [0.0] * k)
        signs = 2.0 * labels - 1.0

        def step(inputs, targets, negatives, weights, lr):
            if identity and inputs.shape[1] == 1:  # skip-gram word2vec: one input row per example
                rows = inputs[:, 0]
                hidden = tf.gather(w_in, rows)                                      # (B, d)
            else:
                rows = inputs[..., None] if identity else tf.gather(sub, inputs)    # (B, C, S) input rows
                mask = tf.cast(rows < sink, tf.float32)
                per_word = tf.reduce_sum(mask, axis=2)                              # (B, C)
                word_vecs = (tf.reduce_sum(tf.gather(w_in, rows) * mask[..., None], axis=2)
                             / tf.maximum(per_word, 1.0)[..., None])
                words = tf.reduce_sum(tf.cast(per_word > 0, tf.float32), axis=1)
                hidden = tf.reduce_sum(word_vecs, axis=1) / tf.maximum(words, 1.0)[:, None]  # (B, d)
            out_ids = tf.concat([targets[:, None], negatives], axis=1)              # (B, 1 + k)
            out_vecs = tf.gather(w_out, out_ids)                                    # (B, 1 + k, d)
            scores = tf.reduce_sum(hidden[:, None, :] * out_vecs, axis=-1)
            not_target = tf.cast(tf.not_equal(negatives, targets[:, None]), tf.float32)
            valid = tf.concat([tf.ones_like(weights[:, None]), not_target], axis=1) * weights[:, None]
            grad = (labels - tf.sigmoid(scores)) * valid * lr                       # (B, 1 + k)
            loss = -tf.reduce_sum(tf.math.log_sigmoid(scores * signs) * valid)
            hidden_err = tf.reduce_sum(grad[..., None] * out_vecs, axis=1)           # (B, d)
            w_out.scatter_add(tf.IndexedSlices(tf.reshape(grad[..., None] * hidden[:, None, :], [-1, dim]),
                                               tf.reshape(out_ids, [-1])))
            if identity and inputs.shape[1] == 1:
                in_updates = hidden_err
            else:  # every row of every input word gets the whole error, as in fastText and gensim
                in_updates = hidden_err[:, None, None, :] * mask[..., None]
            w_in.scatter_add(tf.IndexedSlices(tf.reshape(in_updates, [-1, dim]), tf.reshape(rows, [-1])))
            return loss

        @tf.function(jit_compile=self.jit_compile, reduce_retracing=True)
        def chunk(inputs, targets, negatives, weights, lr0, lr1):
            steps = tf.shape(targets)[0]
            total = tf.constant(0.0)
            for b in tf.range(steps):
                lr = lr0 + (lr1 - lr0) * tf.cast(b, tf.float32) / tf.cast(steps, tf.float32)
                total += step(inputs[b], targets[b], negatives[b], weights[b], lr)
            return total

        self._epoch_fn = chunk
        return chunk

    def _unigram_table(self):
        """Word ids repeated in proportion to count^ns_exponent (the reference C table, smaller)."""
        size = int(min(1e8, max(1e6, 100 * len(self.words))))
        p = self.counts.astype(np.float64) ** self.ns_exponent
        cum = np.cumsum(p / p.sum())
        return np.minimum(np.searchsorted(cum, (np.arange(size) + 0.5) / size), len(self.words) - 1).astype(np.int32)

    def _run_epoch(self, inputs, targets, lr0, lr1):
        """Feed an epoch's examples to the compiled chunk function; returns the summed loss."""
        fn, batch, steps = self._compiled_chunk(), self.batch_size, self.CHUNK_STEPS
        table = self._table if getattr(self, "_table", None) is not None else self._unigram_table()
        self._table = table
        per_chunk = batch * steps
        n, total = len(targets), 0.0
        for lo in range(0, n, per_chunk):
            hi = min(lo + per_chunk, n)
            pad = per_chunk - (hi - lo)
            weights = np.ones(per_chunk, np.float32)
            if pad:
                weights[hi - lo:] = 0.0
            x = np.pad(inputs[lo:hi], ((0, pad), (0, 0)), constant_values=len(self.words))
            y = np.pad(targets[lo:hi], (0, pad))
            negatives = table[self._rng.integers(0, len(table), (per_chunk, self.negative))]  # ~ unigram^0.75
            a = lr0 + (lr1 - lr0) * lo / n
            b = lr0 + (lr1 - lr0) * (lo + per_chunk) / n
            total += float(fn(x.reshape(steps, batch, -1), y.reshape(steps, batch), negatives.reshape(steps, batch, -1),
                              weights.reshape(steps, batch), np.float32(a), np.float32(b)))
        return total
