"""dlzoo's NLP building blocks: tokenizers, corpora, word embeddings and vectors.

>>> import nlp
>>> texts = nlp.corpora.load("python-docs", unit="sentences")
>>> tok = nlp.SentencePieceTokenizer.train(texts, vocab_size=2000, model_type="bpe")
>>> chars = nlp.CharTokenizer.train(texts)
"""

import os as _os

_os.environ.setdefault("KERAS_BACKEND", "tensorflow")
_os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from nlp import corpora  # noqa: E402
from nlp.tokenizers import (  # noqa: E402
    SPECIAL_TOKENS,
    CharTokenizer,
    SentencePieceTokenizer,
    Tokenizer,
    TokenizerLayer,
    WordTokenizer,
)

__all__ = [
    "corpora",
    "SPECIAL_TOKENS",
    "Tokenizer",
    "WordTokenizer",
    "CharTokenizer",
    "SentencePieceTokenizer",
    "TokenizerLayer",
]
