"""Character tokenizer: one token per Unicode code point."""

from __future__ import annotations

import collections

from nlp.tokenizers.base import SPECIAL_TOKENS, _check_corpus, _VocabTokenizer
from zoo.core.checks import fail

__all__ = ["CharTokenizer"]


class CharTokenizer(_VocabTokenizer):
    """Unicode code points: one token per character, unseen characters map to ``<unk>``.

    ``decode(encode(s)) == s`` whenever every character of ``s`` is in the vocabulary.
    """

    kind = "char"

    def __init__(self, chars):
        if not hasattr(chars, "__iter__"):
            fail("chars", chars, "an iterable of single characters (a string or a list)", "CharTokenizer", error=TypeError)
        chars = list(chars)
        bad = [c for c in chars if not isinstance(c, str) or len(c) != 1]
        if bad:
            raise ValueError(f"invalid chars: {bad[:5]!r}; expected single characters")
        super().__init__(chars)

    @classmethod
    def train(cls, texts, max_vocab=None, min_frequency=1):
        """Vocabulary of the characters of ``texts`` by decreasing frequency (ties by code point)."""
        texts = _check_corpus(texts)
        counts = collections.Counter()
        for t in texts:
            counts.update(t)
        return cls(cls._select(counts, max_vocab, min_frequency, "texts"))

    def _encode_batch(self, texts):
        return [self._ids(t) for t in texts]

    def _decode_one(self, ids):
        return "".join(self._tokens[i] for i in ids)

    def _state(self):
        return {"chars": self._tokens[len(SPECIAL_TOKENS):]}

    @classmethod
    def _from_state(cls, state):
        return cls(state["chars"])
