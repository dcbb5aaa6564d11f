"""What Word2Vec, FastText and GloVe share: corpus tokenizing, the vocabulary, corpus encoding, ``.npz`` files."""

from __future__ import annotations

import io
import json
import os

import numpy as np

from nlp import corpora
from zoo.core.checks import check_int, check_path, fail
from zoo.core.io import atomic_write

__all__ = ["Embeddings"]


def _tokenized(sentences) -> list[list[str]]:
    if sentences is None:
        raise ValueError("sentences is None; expected an iterable of strings or of token lists")
    if isinstance(sentences, str):
        raise TypeError("invalid sentences: expected an iterable of strings or token lists, got a single str")
    if not hasattr(sentences, "__iter__"):
        fail("sentences", sentences, "an iterable of strings or of token lists", error=TypeError)
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


class Embeddings:
    """Vocabulary building, corpus encoding and .npz persistence shared by the three models."""

    _ARRAYS: tuple = ()

    def __init__(self, vector_size, window, min_count, max_vocab_size, epochs, seed, verbose):
        check_int("vector_size", vector_size, 1)
        check_int("window", window, 1)
        check_int("min_count", min_count, 1)
        check_int("epochs", epochs, 1)
        check_int("max_vocab_size", max_vocab_size, 1, allow_none=True)
        check_int("seed", seed, 0, allow_none=True)
        # stored as Python numbers (the checks also pass NumPy integers): Keras and the JSON config want them
        self.vector_size, self.window, self.min_count = int(vector_size), int(window), int(min_count)
        self.max_vocab_size = None if max_vocab_size is None else int(max_vocab_size)
        self.epochs, self.seed, self.verbose = int(epochs), seed, verbose
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
        check_int("epochs", epochs, 1)
        sentences = self.build_vocab(sentences) if not self.words else _tokenized(sentences)
        return (*self._encode(sentences), int(epochs))

    def _require_trained(self):
        if not self.words:
            raise ValueError(f"{type(self).__name__} is not trained yet: pass sentences or call train()")

    def _log(self, msg):
        if self.verbose:
            print(f"{type(self).__name__}: {msg}", flush=True)

    # -- persistence (.npz, no pickle) -----------------------------------------------------------
    def save(self, path) -> str:
        """Write the model (vocabulary, counts, weights, settings) as an ``.npz`` file, atomically."""
        if not self.words:
            raise ValueError(f"{type(self).__name__} has no vocabulary yet: train it before save")
        check_path("path", path, "save")
        arrays = {name: getattr(self, name) for name in self._ARRAYS}
        buf = io.BytesIO()
        np.savez(buf, words=np.array(self.words, dtype=str), counts=self.counts,
                 config=np.array(json.dumps({"type": type(self).__name__, **self._config()})), **arrays)
        atomic_write(path, buf.getvalue())
        return path

    @classmethod
    def load(cls, path):
        check_path("path", path, f"{cls.__name__}.load")
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
