"""Word embeddings trained on TensorFlow: Word2Vec, FastText and GloVe.

>>> sentences = nlp.corpora.load("lee-background")          # strings or lists of tokens
>>> w2v = nlp.Word2Vec(sentences, sg=True, vector_size=100, window=5, negative=5, min_count=2, epochs=20)
>>> w2v.wv.most_similar("attacks", topn=10)
>>> ft = nlp.FastText(sentences, min_n=3, max_n=6, bucket=200_000)
>>> ft.wv["attackers"]          # a vector even for a word never seen
>>> glove = nlp.GloVe(sentences, vector_size=50, window=10, epochs=25)

Strings are split with :func:`nlp.corpora.tokenize_words` (gensim's
``simple_preprocess``); lists of tokens are used as they are.

Word2Vec and FastText (skip-gram or CBOW with negative sampling) follow the
reference C implementation and gensim: frequent-word subsampling
(``sample``), a reduced window drawn per word, negatives from the unigram
distribution raised to ``ns_exponent`` (0.75), a learning rate decaying
linearly from ``alpha`` to ``min_alpha``. What makes the TensorFlow word2vec
tutorial slow is a Python loop per (word, context) pair; here the pairs of a
whole epoch are built with NumPy array operations (one pass per window offset)
and the epoch runs as one ``tf.function`` loop over mini-batches of
``batch_size`` pairs, each an exact negative-sampling SGD step applied with
sparse ``scatter_add`` updates (the same update as gensim's, summed over the
batch). The two weight matrices are the embeddings of a Keras model
(``model.keras_model``: the input and output ``keras.layers.Embedding``).

GloVe builds the co-occurrence matrix with NumPy/SciPy (pairs weighted by
1/distance, symmetric) and fits the weighted least-squares objective
``f(X_ij) (w_i . w~_j + b_i + b~_j - log X_ij)^2`` with a Keras model,
``model.fit`` and AdaGrad, as in the paper; the vectors are ``W + W~``.
"""

from __future__ import annotations

import io
import json
import os
import time

import numpy as np

from nlp import corpora
from nlp.vectors import FastTextVectors, KeyedVectors, char_ngrams, fasttext_hash

__all__ = ["Word2Vec", "FastText", "GloVe"]


def _check(name, value, kind, low=None, high=None, low_open=False):
    ok = isinstance(value, kind) and not isinstance(value, bool)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value <= high
    if not ok:
        expect = "an integer" if kind is int else "a number"
        bound = f" {'>' if low_open else '>='} {low}" if low is not None else ""
        bound += f" and <= {high}" if high is not None else ""
        raise ValueError(f"invalid {name}={value!r}; expected {expect}{bound}")


def _tokenized(sentences) -> list[list[str]]:
    if sentences is None:
        raise ValueError("sentences is None; expected an iterable of strings or of token lists")
    if isinstance(sentences, str):
        raise TypeError("invalid sentences: expected an iterable of strings or token lists, got a single str")
    out = []
    for i, s in enumerate(sentences):
        if isinstance(s, str):
            out.append(corpora.tokenize_words(s))
        elif isinstance(s, (list, tuple)) and all(isinstance(t, str) for t in s):
            out.append(list(s))
        else:
            raise TypeError(f"invalid sentences[{i}]={s!r:.60}; expected a string or a list of string tokens")
    if not any(out):
        raise ValueError("sentences is empty: no words to train on")
    return out


class _Embeddings:
    """Vocabulary building, corpus encoding and .npz persistence shared by the three models."""

    _ARRAYS: tuple = ()

    def __init__(self, vector_size, window, min_count, max_vocab_size, epochs, seed, verbose):
        _check("vector_size", vector_size, int, 1)
        _check("window", window, int, 1)
        _check("min_count", min_count, int, 1)
        _check("epochs", epochs, int, 1)
        if max_vocab_size is not None:
            _check("max_vocab_size", max_vocab_size, int, 1)
        self.vector_size, self.window, self.min_count = vector_size, window, min_count
        self.max_vocab_size, self.epochs, self.seed, self.verbose = max_vocab_size, epochs, seed, verbose
        self.words, self.counts, self.history = [], np.zeros(0, np.int64), []
        self._rng = np.random.default_rng(seed)

    def build_vocab(self, sentences):
        """Count words; keep those seen ``min_count`` times (the ``max_vocab_size`` most frequent)."""
        sentences = _tokenized(sentences)
        counts = {}
        for s in sentences:
            for w in s:
                counts[w] = counts.get(w, 0) + 1
        kept = sorted(((n, w) for w, n in counts.items() if n >= self.min_count), key=lambda nw: -nw[0])
        if self.max_vocab_size:
            kept = kept[: self.max_vocab_size]
        if not kept:
            raise ValueError(f"min_count={self.min_count} leaves no word: the most frequent word occurs "
                             f"{max(counts.values())} times in {sum(counts.values())} words")
        self.words = [w for _, w in kept]
        self.counts = np.array([n for n, _ in kept], np.int64)
        self._init_weights()
        return sentences

    @property
    def index(self):
        if getattr(self, "_index", None) is None or len(self._index) != len(self.words):
            self._index = {w: i for i, w in enumerate(self.words)}
        return self._index

    def _encode(self, sentences):
        """Flat int32 ids of in-vocabulary words and the sentence number of each (OOV words dropped)."""
        index = self.index
        ids, sent = [], []
        for k, s in enumerate(sentences):
            row = [index[w] for w in s if w in index]
            ids.extend(row)
            sent.extend([k] * len(row))
        if not ids:
            raise ValueError("no word of sentences is in the vocabulary")
        return np.asarray(ids, np.int32), np.asarray(sent, np.int32)

    def _prepare(self, sentences, epochs):
        """Check ``train``'s arguments, build the vocabulary if there is none, encode the corpus."""
        if sentences is None:
            raise ValueError("train needs sentences=<iterable of strings or token lists>")
        epochs = self.epochs if epochs is None else epochs
        _check("epochs", epochs, int, 1)
        sentences = self.build_vocab(sentences) if not self.words else _tokenized(sentences)
        return (*self._encode(sentences), epochs)

    def _log(self, msg):
        if self.verbose:
            print(f"{type(self).__name__}: {msg}", flush=True)

    # -- persistence (.npz, no pickle) -----------------------------------------------------------
    def save(self, path) -> str:
        """Write the model (vocabulary, counts, weights, settings) as an ``.npz`` file, atomically."""
        if not self.words:
            raise ValueError(f"{type(self).__name__} has no vocabulary yet: train it before save")
        arrays = {name: getattr(self, name) for name in self._ARRAYS}
        buf = io.BytesIO()
        np.savez(buf, words=np.array(self.words, dtype=str), counts=self.counts,
                 config=np.array(json.dumps({"type": type(self).__name__, **self._config()})), **arrays)
        tmp = f"{path}.tmp{os.getpid()}"
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(tmp, "wb") as f:
            f.write(buf.getvalue())
        os.replace(tmp, path)
        return path

    @classmethod
    def load(cls, path):
        if not os.path.isfile(path):
            raise FileNotFoundError(f"model file path={path!r} does not exist")
        try:
            with np.load(path, allow_pickle=False) as data:
                config = json.loads(str(data["config"]))
                arrays = {k: data[k] for k in data.files}
        except (ValueError, KeyError, OSError) as err:
            raise ValueError(f"could not read {cls.__name__} file {path!r}: {err}") from None
        kind = config.pop("type")
        if kind != cls.__name__:
            raise ValueError(f"{path!r} holds a {kind}, not a {cls.__name__}")
        model = cls(**config)
        model.words = [str(w) for w in arrays["words"]]
        model.counts = arrays["counts"]
        model._init_weights()
        for name in cls._ARRAYS:
            model._set_array(name, arrays[name])
        return model


class Word2Vec(_Embeddings):
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
            raise ValueError(f"invalid sg={sg!r}; expected True (skip-gram) or False (CBOW)")
        _check("negative", negative, int, 1)
        _check("sample", sample, (int, float), 0)
        _check("alpha", alpha, (int, float), 0, low_open=True)
        _check("min_alpha", min_alpha, (int, float), 0, high=alpha)
        _check("ns_exponent", ns_exponent, (int, float), 0)
        _check("batch_size", batch_size, int, 1)
        self.sg, self.negative, self.sample = sg, negative, float(sample)
        self.alpha, self.min_alpha, self.ns_exponent, self.batch_size = float(alpha), float(min_alpha), ns_exponent, batch_size
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
        emb_out = keras.layers.Embedding(len(self.words) + 1, dim, embeddings_initializer="zeros", name="output_embedding")
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
        if not self.words:
            raise ValueError(f"{type(self).__name__} is not trained yet: pass sentences or call train()")
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
            valid = tf.concat([tf.ones_like(weights[:, None]),
                               tf.cast(tf.not_equal(negatives, targets[:, None]), tf.float32)], axis=1) * weights[:, None]
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
            total += float(fn(x.reshape(steps, batch, -1), y.reshape(steps, batch),
                              negatives.reshape(steps, batch, -1), weights.reshape(steps, batch), np.float32(a), np.float32(b)))
        return total


class FastText(Word2Vec):
    """Word2Vec whose input vector of a word is the mean of its own row and its character n-gram rows.

    N-grams of ``min_n`` to ``max_n`` characters of ``<word>`` are hashed (fastText's
    FNV-1a) into ``bucket`` rows, so ``wv`` gives vectors for words never seen.
    """

    _ARRAYS = ("input_weights", "output_weights")

    def __init__(self, sentences=None, *, min_n=3, max_n=6, bucket=2_000_000, **kwargs):
        _check("min_n", min_n, int, 1)
        _check("max_n", max_n, int, min_n)
        _check("bucket", bucket, int, 1)
        self.min_n, self.max_n, self.bucket = min_n, max_n, bucket
        super().__init__(sentences, **kwargs)

    def _config(self):
        return dict(super()._config(), min_n=self.min_n, max_n=self.max_n, bucket=self.bucket)

    def _input_rows(self):
        return len(self.words) + self.bucket

    def _subword_table(self):
        vocab = len(self.words)
        rows = [[i] + [vocab + fasttext_hash(g) % self.bucket for g in char_ngrams(w, self.min_n, self.max_n)]
                for i, w in enumerate(self.words)]
        width = max(len(r) for r in rows)
        sink = vocab + self.bucket
        table = np.full((vocab + 1, width), sink, np.int32)
        for i, r in enumerate(rows):
            table[i, : len(r)] = r
        return table

    @property
    def wv(self) -> FastTextVectors:
        if not self.words:
            raise ValueError("FastText is not trained yet: pass sentences or call train()")
        w_in = self.input_weights
        table = self._sub.numpy()[:-1]
        mask = table < len(w_in)
        vecs = (w_in[np.where(mask, table, 0)] * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        return FastTextVectors(self.words, vecs, w_in[len(self.words):], self.min_n, self.max_n)


class GloVe(_Embeddings):
    """GloVe: weighted least squares on the log co-occurrence counts, fitted by a Keras model.

    ``x_max`` and ``power`` shape the weighting ``f(x) = min(1, (x / x_max) ** power)``;
    ``learning_rate`` is AdaGrad's. ``keras_model`` is the fitted model,
    ``cooccurrence`` the sparse matrix it was fitted to.
    """

    _ARRAYS = ("word_weights", "context_weights")

    def __init__(self, sentences=None, *, vector_size=100, window=10, min_count=5, x_max=100.0, power=0.75,
                 epochs=25, learning_rate=0.05, batch_size=4096, max_vocab_size=None, seed=0, verbose=False):
        super().__init__(vector_size, window, min_count, max_vocab_size, epochs, seed, verbose)
        _check("x_max", x_max, (int, float), 0, low_open=True)
        _check("power", power, (int, float), 0)
        _check("learning_rate", learning_rate, (int, float), 0, low_open=True)
        _check("batch_size", batch_size, int, 1)
        self.x_max, self.power, self.learning_rate, self.batch_size = float(x_max), float(power), float(learning_rate), batch_size
        self.cooccurrence = None
        if sentences is not None:
            self.train(sentences)

    def _config(self):
        return dict(vector_size=self.vector_size, window=self.window, min_count=self.min_count, x_max=self.x_max,
                    power=self.power, epochs=self.epochs, learning_rate=self.learning_rate,
                    batch_size=self.batch_size, max_vocab_size=self.max_vocab_size, seed=self.seed, verbose=self.verbose)

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
        if not self.words:
            raise ValueError("GloVe is not trained yet: pass sentences or call train()")
        return KeyedVectors(self.words, self.word_weights + self.context_weights)

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
                                   batch_size=self.batch_size, epochs=epochs, shuffle=True, verbose=int(bool(self.verbose)))
        start = len(self.history)
        self.history += [{"epoch": start + e + 1, "loss": float(v) / self.batch_size}
                         for e, v in enumerate(fit.history["loss"])]
        return self
