"""Word tokenizer: lowercasing and punctuation rules, unknown words map to ``<unk>``."""

from __future__ import annotations

import collections
import re

from nlp.tokenizers.base import SPECIAL_TOKENS, _check_corpus, _VocabTokenizer
from nlp.tokenizers.unicode_rules import lower_map
from zoo.core.checks import check_bool, check_choice

__all__ = ["WordTokenizer"]


class WordTokenizer(_VocabTokenizer):
    """Words, with configurable lowercasing and punctuation rules; unknown words map to ``<unk>``.

    ``punctuation``: ``"split"`` (each punctuation mark is a token), ``"strip"``
    (dropped), ``"keep"`` (split on whitespace only, punctuation stays attached).
    Special-token strings in the text (``"<mask>"``) map to their ids.
    ``decode`` joins words with single spaces (whitespace is not kept).
    Lowercasing is per character (``str.lower`` of each one, so a final ``Σ``
    gives ``σ``, not ``ς``): the rule the TF-native layer can apply too.
    """

    kind = "word"
    PUNCTUATION = {"split": r"\w+(?:['’]\w+)*|[^\w\s]", "strip": r"\w+(?:['’]\w+)*", "keep": r"\S+"}

    def __init__(self, tokens, lowercase=True, punctuation="split"):
        check_choice("punctuation", punctuation, self.PUNCTUATION)
        check_bool("lowercase", lowercase, "WordTokenizer")
        super().__init__(tokens)
        self.lowercase = bool(lowercase)
        self.punctuation = punctuation
        specials = "|".join(re.escape(t) for t in SPECIAL_TOKENS.values())
        self._pattern = re.compile(f"{specials}|{self.PUNCTUATION[punctuation]}")

    @classmethod
    def train(cls, texts, max_vocab=None, min_frequency=1, lowercase=True, punctuation="split"):
        """Vocabulary of the ``max_vocab`` most frequent words seen at least ``min_frequency`` times."""
        texts = _check_corpus(texts)
        probe = cls([], lowercase=lowercase, punctuation=punctuation)
        counts = collections.Counter(w for t in texts for w in probe.split(t))
        return cls(cls._select(counts, max_vocab, min_frequency, "texts"), lowercase=lowercase, punctuation=punctuation)

    def split(self, text: str) -> list[str]:
        """The words of ``text`` under this tokenizer's rules (before the vocabulary lookup)."""
        words = self._pattern.findall(text)
        return [w.translate(lower_map()) for w in words] if self.lowercase else words

    def _encode_batch(self, texts):
        return [self._ids(self.split(t)) for t in texts]

    def _decode_one(self, ids):
        return " ".join(self._tokens[i] for i in ids)

    def _state(self):
        return {"tokens": self._tokens[len(SPECIAL_TOKENS):], "lowercase": self.lowercase,
                "punctuation": self.punctuation}

    @classmethod
    def _from_state(cls, state):
        return cls(state["tokens"], lowercase=state["lowercase"], punctuation=state["punctuation"])
