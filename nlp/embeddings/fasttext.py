"""FastText: Word2Vec whose word vectors are built from the word's row and its hashed character n-grams."""

from __future__ import annotations

import numpy as np

from nlp.embeddings.word2vec import Word2Vec
from nlp.vectors import FastTextVectors, char_ngrams, fasttext_hash
from zoo.core.checks import check_int

__all__ = ["FastText"]


class FastText(Word2Vec):
    """Word2Vec whose input vector of a word is the mean of its own row and its character n-gram rows.

    N-grams of ``min_n`` to ``max_n`` characters of ``<word>`` are hashed (fastText's
    FNV-1a) into ``bucket`` rows, so ``wv`` gives vectors for words never seen.
    """

    _ARRAYS = ("input_weights", "output_weights")

    def __init__(self, sentences=None, *, min_n=3, max_n=6, bucket=2_000_000, **kwargs):
        check_int("min_n", min_n, 1)
        check_int("max_n", max_n, min_n)
        check_int("bucket", bucket, 1)
        self.min_n, self.max_n, self.bucket = int(min_n), int(max_n), int(bucket)
        super().__init__(sentences, **kwargs)

    def _config(self):
        return dict(super()._config(), min_n=self.min_n, max_n=self.max_n, bucket=self.bucket)

    def _input_rows(self):
        return len(self.words) + self.bucket

    def _subword_table(self):
        vocab, rows_of = len(self.words), {}  # an n-gram shared by many words is hashed once
        rows = [[i] + [rows_of[g] if g in rows_of else rows_of.setdefault(g, vocab + fasttext_hash(g) % self.bucket)
                       for g in char_ngrams(w, self.min_n, self.max_n)]
                for i, w in enumerate(self.words)]
        width = max(len(r) for r in rows)
        sink = vocab + self.bucket
        table = np.full((vocab + 1, width), sink, np.int32)
        for i, r in enumerate(rows):
            table[i, : len(r)] = r
        return table

    @property
    def wv(self) -> FastTextVectors:
        self._require_trained()
        w_in = self.input_weights
        table = self._sub[:-1]
        mask = table < len(w_in)
        vecs = (w_in[np.where(mask, table, 0)] * mask[..., None]).sum(axis=1) / mask.sum(axis=1, keepdims=True)
        return FastTextVectors(self.words, vecs, w_in[len(self.words):], self.min_n, self.max_n, counts=self.counts)
