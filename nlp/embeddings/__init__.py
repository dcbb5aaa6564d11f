"""Word embeddings: Word2Vec and FastText (compiled SGD, as gensim), GloVe (a Keras model).

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
linearly from ``alpha`` to ``min_alpha``. Training is their per-pair SGD
(each context word's vector predicts the centre word, the update applied at
once), compiled with Numba as one loop per epoch (:mod:`nlp.embeddings.sgd`,
``workers=`` threads; one worker gives the same vectors for a seed).
``kernel="tf"`` instead runs mini-batches of ``batch_size`` pairs as a
``tf.function`` with sparse ``scatter_add`` updates (:mod:`nlp.embeddings.tf_sgd`).
``model.keras_model`` is a Keras model whose input and output
``keras.layers.Embedding`` layers hold the two weight matrices.

GloVe builds the co-occurrence matrix with NumPy/SciPy (pairs weighted by
1/distance, symmetric) and fits the weighted least-squares objective
``f(X_ij) (w_i . w~_j + b_i + b~_j - log X_ij)^2`` with a Keras model,
``model.fit`` and AdaGrad, as in the paper; the vectors are ``W + W~``.
"""

from nlp.embeddings.fasttext import FastText
from nlp.embeddings.glove import GloVe
from nlp.embeddings.word2vec import Word2Vec

__all__ = ["Word2Vec", "FastText", "GloVe"]
