"""Word vectors: similarity, analogies, evaluation, the word2vec file formats, Keras embeddings.

>>> wv = model.wv                                   # from nlp.Word2Vec / FastText / GloVe
>>> wv.most_similar("attacks", topn=10)              # [(word, cosine), ...]
>>> wv.analogy("man", "king", "woman")               # man : king :: woman : ?
>>> wv.evaluate_word_pairs("wordsim353.tsv")["spearman"]
>>> wv.save_word2vec_format("vectors.bin", binary=True)   # gensim reads it
>>> wv = KeyedVectors.load_word2vec_format("vectors.bin")   # gensim's, word2vec.c's
>>> wv = KeyedVectors.from_gensim(gensim_model.wv); wv.to_gensim()
>>> layer = wv.to_keras_embedding(tokenizer)         # rows follow the tokenizer's ids
"""

from __future__ import annotations

import os

import numpy as np

from nlp import vector_files
from zoo.core.checks import check_array, check_bool, check_choice, check_int, check_path, check_str, fail, is_int
from zoo.core.io import atomic_path

__all__ = ["KeyedVectors", "FastTextVectors", "TooFewPairsError", "load_word2vec_format"]


def _unit(matrix):
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


class TooFewPairsError(ValueError):
    """``evaluate_word_pairs`` found fewer than 3 pairs in the vocabulary: no correlation to compute."""


class KeyedVectors:
    """A vocabulary (``words``, most frequent first) and one vector per word (``vectors``, float32).

    ``counts``: each word's corpus count (``None`` for a word without one), or ``None`` when unknown;
    the trainers fill it, and the word2vec files carry it in a vocabulary file (``fvocab=``).
    """

    def __init__(self, words, vectors, counts=None):
        if isinstance(words, (str, bytes)) or not hasattr(words, "__iter__"):
            fail("words", words, "a list of words (strings)", type(self).__name__, error=TypeError)
        words = list(words)
        bad = next((i for i, w in enumerate(words) if not isinstance(w, str)), None)
        if bad is not None:
            fail(f"words[{bad}]", words[bad], "a word (a string)", type(self).__name__, error=TypeError)
        vectors = check_array("vectors", vectors, f"a numeric array of shape ({len(words)}, dim)", type(self).__name__)
        if vectors.ndim != 2 or len(words) != len(vectors):
            raise ValueError(f"invalid vectors of shape {vectors.shape} for {len(words)} words; "
                             f"expected ({len(words)}, dim)")
        if len(set(words)) != len(words):
            seen = set()
            twice = [w for w in words if w in seen or seen.add(w)]
            raise ValueError(f"invalid words: duplicates {twice[:5]!r}; each word needs one row "
                             "(load_word2vec_format keeps a repeated word's first row, as gensim does)")
        self.words = words
        self.vectors = vectors
        self.counts = _check_counts(counts, len(words), type(self).__name__)
        self.index = {w: i for i, w in enumerate(words)}
        self._normed = None

    # -- lookup --------------------------------------------------------------------------------
    @property
    def vector_size(self) -> int:
        return self.vectors.shape[1]

    def __len__(self):
        return len(self.words)

    def __contains__(self, word):
        return word in self.index

    def has_index_for(self, word) -> bool:
        """Whether ``word`` has a row of its own (FastText also has vectors for unseen words)."""
        return word in self.index

    def __getitem__(self, word):
        return self.get_vector(word)

    def get_vector(self, word, norm=False) -> np.ndarray:
        check_str("word", word, type(self).__name__, accepted="a word (a string)")
        i = self._index_of(word)
        return (self.normed[i] if norm else self.vectors[i]).copy()

    def get_count(self, word):
        """The corpus count of ``word`` (gensim's ``get_vecattr(word, "count")``); ``None`` if it has none."""
        check_str("word", word, type(self).__name__, accepted="a word (a string)")
        i = self._index_of(word)
        return None if self.counts is None else self.counts[i]

    def _index_of(self, word):
        try:
            return self.index[word]
        except (KeyError, TypeError):
            raise KeyError(f"word {word!r} not in the vocabulary of {len(self)} words") from None

    @property
    def normed(self) -> np.ndarray:
        if self._normed is None or len(self._normed) != len(self.vectors):
            self._normed = _unit(self.vectors)
        return self._normed

    # -- similarity ----------------------------------------------------------------------------
    def similarity(self, a, b) -> float:
        """Cosine similarity of two words."""
        return float(_unit(self.get_vector(a)) @ _unit(self.get_vector(b)))

    def most_similar(self, positive=None, negative=(), topn=10, restrict_vocab=None):
        """The ``topn`` words closest (cosine) to a word, a vector, or ``sum(positive) - sum(negative)``.

        The query words themselves are left out. ``restrict_vocab`` limits the search
        to the most frequent words.
        """
        if positive is None and (negative is None or isinstance(negative, (list, tuple)) and not negative):
            raise ValueError("most_similar needs positive=<word | vector | list> or negative=<list>")
        check_int("topn", topn, 1)
        check_int("restrict_vocab", restrict_vocab, 1, allow_none=True)
        query, exclude = np.zeros(self.vector_size, np.float32), set()
        for sign, arg, items in ((1.0, "positive", positive), (-1.0, "negative", negative)):
            for item in self._query_items(arg, items):
                if isinstance(item, str):
                    query += sign * self._query_vector(item)
                    if item in self.index:
                        exclude.add(self.index[item])
                else:
                    query += sign * _unit(item)
        limit = len(self) if restrict_vocab is None else min(int(restrict_vocab), len(self))
        scores = self.normed[:limit] @ _unit(query)
        scores[[i for i in exclude if i < limit]] = -np.inf
        k = min(topn, limit - len([i for i in exclude if i < limit]))
        if k <= 0:
            return []
        best = np.argpartition(-scores, k - 1)[:k]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [(self.words[i], float(scores[i])) for i in best]

    def _query_items(self, arg, items):
        """``items`` (a word, a vector or a list of them) as a list of words and float32 vectors of this size."""
        accepted = f"a word, a vector of shape ({self.vector_size},) or a list of them"
        items = [] if items is None else [items] if isinstance(items, (str, np.ndarray)) else items
        if not isinstance(items, (list, tuple)):
            fail(arg, items, accepted, "most_similar", error=TypeError)
        out = [item if isinstance(item, str) else check_array(arg, item, accepted, "most_similar") for item in items]
        for item in out:
            if not isinstance(item, str) and item.shape != (self.vector_size,):
                raise ValueError(f"invalid vector of shape {item.shape}; expected ({self.vector_size},)")
        return out

    def _query_vector(self, word):
        return self.get_vector(word, norm=True)

    def analogy(self, a, b, c, topn=1):
        """``a`` is to ``b`` as ``c`` is to ? (3CosAdd: closest to b - a + c). A word, or a list when ``topn > 1``."""
        for arg, word in (("a", a), ("b", b), ("c", c)):
            check_str(arg, word, "analogy", accepted="a word (a string)")
        result = self.most_similar(positive=[b, c], negative=[a], topn=topn)
        return result[0][0] if topn == 1 else result

    # -- evaluation ----------------------------------------------------------------------------
    def evaluate_word_pairs(self, path, delimiter="\t", case_insensitive=True, restrict_vocab=300000) -> dict:
        """Pearson and Spearman correlation with human similarity scores (wordsim353 format).

        Lines ``word1<TAB>word2<TAB>score``; ``#`` lines are comments. Pairs with a
        word outside the (``restrict_vocab`` most frequent) vocabulary are skipped and
        counted in ``oov_ratio``. Returns ``{"pearson", "spearman", "pairs", "oov_ratio"}``.
        """
        from scipy import stats

        check_str("delimiter", delimiter, "evaluate_word_pairs", accepted="a column separator such as '\\t'")
        lookup = self._restricted_lookup(restrict_vocab, case_insensitive)
        human, ours, oov, total = [], [], 0, 0
        for lineno, line in enumerate(self._read_lines(path), 1):
            if not line.strip() or line.startswith("#"):
                continue
            parts = line.rstrip("\n").split(delimiter)
            try:
                w1, w2, score = parts[0], parts[1], float(parts[2])
            except (IndexError, ValueError):
                raise ValueError(f"{path}:{lineno}: invalid line {line.strip()!r}; expected "
                                 f"'word1{delimiter}word2{delimiter}score'") from None
            total += 1
            if case_insensitive:
                w1, w2 = w1.lower(), w2.lower()
            if w1 not in lookup or w2 not in lookup:
                oov += 1
                continue
            human.append(score)
            ours.append(float(self.normed[lookup[w1]] @ self.normed[lookup[w2]]))
        if len(human) < 3:
            raise TooFewPairsError(f"{path}: only {len(human)} of {total} pairs are in the vocabulary; cannot correlate")
        return {"pearson": float(stats.pearsonr(human, ours)[0]), "spearman": float(stats.spearmanr(human, ours)[0]),
                "pairs": len(human), "oov_ratio": oov / max(total, 1)}

    def evaluate_analogies(self, path, restrict_vocab=300000, case_insensitive=True) -> dict:
        """Accuracy on ``questions-words.txt``-format analogies (``: section`` lines, then ``a b c d``).

        3CosAdd over the ``restrict_vocab`` most frequent words, the question words
        excluded; questions with an out-of-vocabulary word are skipped (as gensim does).
        Returns ``{"accuracy", "correct", "total", "skipped", "sections": {name: accuracy}}``.
        """
        lookup = self._restricted_lookup(restrict_vocab, case_insensitive)
        limit = min(restrict_vocab or len(self), len(self))
        sections, current, questions, skipped = {}, None, [], 0
        for lineno, line in enumerate(self._read_lines(path), 1):
            if line.startswith(":"):
                current = line[1:].strip()
                sections.setdefault(current, [0, 0])
                continue
            words = line.split()
            if not words:
                continue
            if len(words) != 4 or current is None:
                raise ValueError(f"{path}:{lineno}: invalid line {line.strip()!r}; expected ': section' or 'a b c d'")
            if case_insensitive:
                words = [w.lower() for w in words]
            if any(w not in lookup for w in words):
                skipped += 1
                continue
            questions.append((current, *[lookup[w] for w in words]))
        normed = self.normed[:limit]
        correct_total = 0
        for start in range(0, len(questions), 512):
            chunk = questions[start:start + 512]
            a, b, c, d = (np.array([q[k] for q in chunk]) for k in range(1, 5))
            scores = _unit(normed[b] - normed[a] + normed[c]) @ normed.T
            rows = np.arange(len(chunk))
            for ex in (a, b, c):
                scores[rows, ex] = -np.inf
            hit = scores.argmax(axis=1) == d
            correct_total += int(hit.sum())
            for q, h in zip(chunk, hit):
                sections[q[0]][0] += int(h)
                sections[q[0]][1] += 1
        total = len(questions)
        return {"accuracy": correct_total / total if total else 0.0, "correct": correct_total, "total": total,
                "skipped": skipped, "sections": {k: (v[0] / v[1] if v[1] else None) for k, v in sections.items()}}

    def _restricted_lookup(self, restrict_vocab, case_insensitive):
        check_int("restrict_vocab", restrict_vocab, 1, allow_none=True)
        check_bool("case_insensitive", case_insensitive)
        limit = len(self) if restrict_vocab is None else min(int(restrict_vocab), len(self))
        lookup = {}
        for i in range(limit):  # most frequent first: with case folding the frequent spelling wins
            key = self.words[i].lower() if case_insensitive else self.words[i]
            lookup.setdefault(key, i)
        return lookup

    @staticmethod
    def _read_lines(path):
        check_path("path", path, accepted="a path to an evaluation file")
        if not os.path.isfile(path):
            raise FileNotFoundError(f"evaluation file path={path!r} does not exist")
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.readlines()

    # -- word2vec file formats and gensim (nlp/vector_files.py) -------------------------------------
    def save_word2vec_format(self, path, binary=False, fvocab=None) -> str:
        """Write the word2vec text (``binary=False``) or binary (the C tool's layout) format; gensim reads it; atomic.

        ``fvocab``: also write the counts as a vocabulary file (``word count`` lines, as gensim's ``fvocab=``
        and the C tool's ``-save-vocab``).
        """
        check_path("path", path, "save_word2vec_format")
        check_bool("binary", binary, "save_word2vec_format")
        if fvocab is not None:
            check_path("fvocab", fvocab, "save_word2vec_format")
            if self.counts is None:
                fail("fvocab", fvocab, "None: these vectors have no counts (a trainer's .wv, or "
                     "load_word2vec_format(..., fvocab=) has them)", "save_word2vec_format")
        vector_files.check_writable_words(self.words)
        with atomic_path(path) as tmp, open(tmp, "wb") as f:
            vector_files.write_word2vec(f, self.words, self.vectors, binary)
        if fvocab is not None:
            with atomic_path(fvocab) as tmp, open(tmp, "wb") as f:
                vector_files.write_counts(f, self.words, self.counts)
        return path

    @classmethod
    def load_word2vec_format(cls, path, binary=None, limit=None, unicode_errors="strict", encoding="utf-8",
                             no_header=False, fvocab=None) -> KeyedVectors:
        """Read a word2vec text or binary file as gensim does (``binary=None`` detects which).

        ``unicode_errors``: ``"strict"`` (gensim's default), ``"replace"`` or ``"ignore"``
        for words with bytes that are not ``encoding``; a repeated word keeps its first
        vector; ``limit`` reads the first words only; ``no_header=True`` for headerless
        text files (GloVe's); ``fvocab``: a vocabulary file of ``word count`` lines (the C tool's
        ``-save-vocab``), read into ``counts``. See :mod:`nlp.vector_files` for the exact rules.
        """
        words, vectors, counts = vector_files.read_word2vec(path, binary, limit, unicode_errors, encoding, no_header,
                                                            fvocab)
        return cls(words, vectors, counts=counts)

    @classmethod
    def from_gensim(cls, kv) -> KeyedVectors:
        """The words (same order) and vectors of a gensim ``KeyedVectors`` or model (FastText's n-grams too)."""
        return vector_files.from_gensim(cls, kv)

    def to_gensim(self):
        """gensim's ``KeyedVectors`` (``FastTextKeyedVectors`` for :class:`FastTextVectors`) with these vectors."""
        return vector_files.to_gensim(self)

    # -- Keras -----------------------------------------------------------------------------------
    def embedding_matrix(self, tokenizer, missing="random", seed=0):
        """A ``(tokenizer.vocab_size, dim)`` matrix whose row ``i`` is the vector of ``tokenizer.id_to_token(i)``.

        Tokens without a vector get small random rows (``missing="random"``, scaled
        like the vectors) or zeros (``missing="zeros"``); the padding row is zero.
        Returns ``(matrix, found)`` where ``found`` counts tokens with a vector.
        """
        check_choice("missing", missing, ("random", "zeros"))
        if not (hasattr(tokenizer, "id_to_token") and hasattr(tokenizer, "special_ids")):
            fail("tokenizer", tokenizer, "an nlp tokenizer such as nlp.WordTokenizer", "embedding_matrix", error=TypeError)
        check_int("seed", seed, 0)
        size = tokenizer.vocab_size
        rng = np.random.default_rng(seed)
        scale = float(self.vectors.std()) if len(self) else 0.1
        matrix = (rng.normal(0, scale, (size, self.vector_size)) if missing == "random"
                  else np.zeros((size, self.vector_size))).astype(np.float32)
        found = 0
        special = set(tokenizer.special_ids.values())
        for i in range(size):
            if i in special:
                continue
            token = tokenizer.id_to_token(i)
            word = token.lstrip("\u2581")  # SentencePiece word-start marker
            candidates = [c for c in dict.fromkeys((token, word, word.lower())) if c]
            # a word of the vocabulary first; else (FastText) a vector built from the word's n-grams
            hit = next((c for c in candidates if c in self.index), None)
            if hit is None:
                hit = next((c for c in candidates[::-1] if self._has_vector(c)), None)
            if hit is not None:
                matrix[i] = self.get_vector(hit)
                found += 1
        matrix[tokenizer.pad_id] = 0.0
        return matrix, found

    def _has_vector(self, word):
        return word in self.index

    def to_keras_embedding(self, tokenizer, trainable=False, missing="random", mask_zero=None,
                           name="pretrained_embedding"):
        """A ``keras.layers.Embedding`` initialised with these vectors, rows in the tokenizer's id order.

        Transfer learning for text: freeze it (``trainable=False``, the default)
        or fine-tune it. ``mask_zero`` defaults to True when the pad id is 0.
        """
        import keras

        matrix, found = self.embedding_matrix(tokenizer, missing=missing)
        if found == 0:
            raise ValueError(f"none of the {tokenizer.vocab_size} tokens of {tokenizer!r} has a vector here")
        layer = keras.layers.Embedding(tokenizer.vocab_size, self.vector_size, trainable=trainable,
                                       mask_zero=(tokenizer.pad_id == 0) if mask_zero is None else mask_zero, name=name)
        layer.build((None,))
        layer.embeddings.assign(matrix)
        layer.coverage = found / max(tokenizer.vocab_size - len(set(tokenizer.special_ids.values())), 1)
        return layer

    def __repr__(self):
        return f"{type(self).__name__}({len(self)} words, {self.vector_size} dimensions)"


def load_word2vec_format(path, binary=None, limit=None, unicode_errors="strict", encoding="utf-8",
                         no_header=False, fvocab=None) -> KeyedVectors:
    """Shortcut for :meth:`KeyedVectors.load_word2vec_format`."""
    return KeyedVectors.load_word2vec_format(path, binary=binary, limit=limit, unicode_errors=unicode_errors,
                                             encoding=encoding, no_header=no_header, fvocab=fvocab)


def _check_counts(counts, n, owner):
    """``counts`` as a list of ``n`` non-negative ints (or ``None`` entries), or ``None``."""
    if counts is None:
        return None
    accepted = f"None or a sequence of {n} non-negative integers (None for a word without a count)"
    if isinstance(counts, (str, bytes)) or not hasattr(counts, "__len__") or len(counts) != n:
        fail("counts", counts, accepted, owner)
    bad = next((c for c in counts if c is not None and not (is_int(c) and c >= 0)), None)
    if bad is not None:
        fail("counts", bad, accepted, owner)
    return [None if c is None else int(c) for c in counts]


def fasttext_hash(text: str) -> int:
    """fastText's 32-bit FNV-1a hash of the UTF-8 bytes (with its signed-char quirk)."""
    h = 2166136261
    for byte in text.encode("utf-8"):
        h = ((h ^ (byte if byte < 128 else byte - 256)) * 16777619) & 0xFFFFFFFF
    return h


def char_ngrams(word: str, min_n: int, max_n: int) -> list[str]:
    """The character n-grams of ``<word>`` (fastText's word boundary markers)."""
    w = f"<{word}>"
    return [w[i:i + n] for n in range(min_n, max_n + 1) for i in range(len(w) - n + 1)]


class FastTextVectors(KeyedVectors):
    """Word vectors plus character n-gram vectors: a vector for any word, seen or not.

    ``word in wv`` is True for any word with at least one n-gram (as in gensim);
    ``wv.has_index_for(word)`` tells whether it was in the training vocabulary.
    """

    def __init__(self, words, vectors, ngram_vectors, min_n=3, max_n=6, counts=None):
        super().__init__(words, vectors, counts)
        check_int("min_n", min_n, 1, owner="FastTextVectors")
        check_int("max_n", max_n, 1, owner="FastTextVectors")
        shape = f"(bucket, {self.vector_size})"
        self.ngram_vectors = check_array("ngram_vectors", ngram_vectors, f"a numeric array of shape {shape}", "FastTextVectors")
        if self.ngram_vectors.ndim != 2 or self.ngram_vectors.shape[1] != self.vector_size:
            raise ValueError(f"invalid ngram_vectors of shape {self.ngram_vectors.shape}; expected {shape}")
        self.bucket = len(self.ngram_vectors)
        self.min_n, self.max_n = int(min_n), int(max_n)

    def ngram_ids(self, word) -> list[int]:
        return [fasttext_hash(g) % self.bucket for g in char_ngrams(word, self.min_n, self.max_n)]

    def __contains__(self, word):
        return isinstance(word, str) and (word in self.index or bool(char_ngrams(word, self.min_n, self.max_n)))

    def _has_vector(self, word):
        return word in self

    def get_vector(self, word, norm=False):
        if word in self.index:
            return super().get_vector(word, norm)
        ids = self.ngram_ids(word) if isinstance(word, str) else []
        if not ids or self.max_n < self.min_n:
            raise KeyError(f"word {word!r} has no character n-grams of {self.min_n} to {self.max_n} characters")
        vec = self.ngram_vectors[ids].mean(axis=0)
        return _unit(vec) if norm else vec
