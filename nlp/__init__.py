"""dlzoo's NLP building blocks: tokenizers, corpora, word embeddings and vectors.

>>> import nlp
>>> texts = nlp.corpora.load("python-docs", unit="sentences")
>>> tok = nlp.SentencePieceTokenizer.train(texts, vocab_size=2000, model_type="bpe")
>>> chars = nlp.CharTokenizer.train(texts)
>>> w2v = nlp.Word2Vec(nlp.corpora.load("python-docs", unit="sentences"), vector_size=50, min_count=3)
>>> w2v.wv.most_similar("function")
>>> clf = nlp.text_classifier(tok, num_classes=2, vectors=w2v.wv)   # raw strings in, probabilities out
"""


from zoo.core import quiet as _quiet  # noqa: E402  (TensorFlow's logs stay off the console)

_quiet.install()

from nlp import corpora  # noqa: E402
from nlp.classifier import MaskedMean, text_classifier, train_text_classifier  # noqa: E402
from nlp.embeddings import FastText, GloVe, Word2Vec  # noqa: E402
from nlp.tokenizers import (  # noqa: E402
    SPECIAL_TOKENS,
    CharTokenizer,
    SentencePieceTokenizer,
    Tokenizer,
    TokenizerLayer,
    WordTokenizer,
)
from nlp.vectors import FastTextVectors, KeyedVectors, load_word2vec_format  # noqa: E402

__all__ = [
    "corpora",
    "SPECIAL_TOKENS",
    "Tokenizer",
    "WordTokenizer",
    "CharTokenizer",
    "SentencePieceTokenizer",
    "TokenizerLayer",
    "Word2Vec",
    "FastText",
    "GloVe",
    "KeyedVectors",
    "FastTextVectors",
    "load_word2vec_format",
    "text_classifier",
    "train_text_classifier",
    "MaskedMean",
]
