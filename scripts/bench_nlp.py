"""nlp benchmarks against the peers, timed alternately in one run (see benchlib).

    python scripts/bench_nlp.py [--repeats 3] [--epochs 20] [--only word2vec,fasttext,glove,sentencepiece]

1. Word2Vec training words/s: ``nlp.Word2Vec`` with 1 worker (reproducible)
   and with 2 (lock-free, like gensim's) against gensim's ``Word2Vec`` with 2
   workers, on ``lee_background.cor`` with the same settings (skip-gram, 100
   dimensions, window 5, 5 negatives, min_count 2, sample 1e-3, ``--epochs``),
   each timed from the token lists to trained vectors, seed = round number;
   with the wordsim353 Spearman of each side, mean over those seeds.
   Ratio = our words/s / gensim's (higher is better).
2. FastText words/s, the same race with n-grams 3-6 in 200,000 buckets.
3. GloVe's co-occurrence counting (window 10, 1/distance weights) against the
   same counts made by a plain-Python dict counter (the algorithm of
   glove-python's ``Corpus.fit``), both checked equal first.
4. SentencePiece encode throughput: ``nlp.SentencePieceTokenizer.encode`` on
   the python-docs sentences against the raw ``SentencePieceProcessor.encode``
   of the same model. Ratio = our sentences/s / raw (higher is better).

``--only word2vec,fasttext`` runs a subset.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchlib import alternate, emit, median_ratio  # noqa: E402


def _lee():
    import nlp

    return [nlp.corpora.tokenize_words(d) for d in nlp.corpora.load("lee-background")]


def _wordsim():
    import gensim

    return os.path.join(os.path.dirname(gensim.__file__), "test", "test_data", "wordsim353.tsv")


def _race(ours_cls, peer_cls, settings, repeats, epochs):
    """Alternate ours (1 and 2 workers) with the gensim class (2 workers); words/s ratios and Spearman per seed."""
    sentences, wordsim = _lee(), _wordsim()
    words = sum(map(len, sentences)) * epochs
    settings = dict(settings, vector_size=100, window=5, negative=5, min_count=2, epochs=epochs)
    models = {"ours": [], "ours_2w": [], "gensim": []}  # evaluated after the timing

    def ours(workers, key):
        return lambda: models[key].append(ours_cls(sentences, sg=True, seed=len(models[key]), workers=workers,
                                                   **settings))

    def peer():
        models["gensim"].append(peer_cls(sentences, sg=1, workers=2, seed=len(models["gensim"]), **settings))

    times = alternate({"ours": ours(1, "ours"), "ours_2w": ours(2, "ours_2w"), "gensim": peer},
                      repeats=repeats, warmup=1)
    spearman = {k: [m.wv.evaluate_word_pairs(wordsim)["spearman"] for m in v] for k, v in models.items() if k != "gensim"}
    spearman["gensim"] = [m.wv.evaluate_word_pairs(wordsim)[1].statistic for m in models["gensim"]]
    row = {f"{k}_words_per_s": round(words / statistics.median(v)) for k, v in times.items()}
    row.update({f"{k}_spearman_mean": round(float(statistics.mean(v)), 3) for k, v in spearman.items()})
    row["seeds"], row["epochs"] = len(spearman["gensim"]), epochs
    return times, row


def bench_word2vec(repeats, epochs):
    """Word2Vec words/s, ours (1 worker: reproducible; 2 workers: Hogwild) against gensim with 2 workers."""
    from gensim.models import Word2Vec as GensimWord2Vec

    import nlp

    times, row = _race(nlp.Word2Vec, GensimWord2Vec, {}, repeats, epochs)
    emit("nlp", [{"measure": "word2vec training words/s, 1 worker (ours / gensim, higher is better)",
                  "peer": "gensim 4.4 Word2Vec, 2 workers", "ratio": median_ratio(times["gensim"], times["ours"]),
                  "ratio_2_workers": round(median_ratio(times["gensim"], times["ours_2w"]), 3), **row}])


def bench_fasttext(repeats, epochs):
    """FastText words/s (n-grams 3-6, 200,000 buckets on both sides) against gensim's FastText with 2 workers."""
    from gensim.models import FastText as GensimFastText

    import nlp

    times, row = _race(nlp.FastText, GensimFastText, dict(min_n=3, max_n=6, bucket=200_000), repeats, epochs)
    emit("nlp", [{"measure": "FastText training words/s, 1 worker (ours / gensim, higher is better)",
                  "peer": "gensim 4.4 FastText, 2 workers", "ratio": median_ratio(times["gensim"], times["ours"]),
                  "ratio_2_workers": round(median_ratio(times["gensim"], times["ours_2w"]), 3), **row}])


def python_cooccurrence(sentences, index, window):
    """The peer: glove-python's ``Corpus.fit`` counting (a dict per word, 1/distance per pair), in plain Python."""
    rows = [{} for _ in index]
    for s in sentences:
        ids = [index[w] for w in s if w in index]
        for i, a in enumerate(ids):
            for d in range(1, window + 1):
                if i + d >= len(ids):
                    break
                b = ids[i + d]
                rows[a][b] = rows[a].get(b, 0.0) + 1.0 / d
                rows[b][a] = rows[b].get(a, 0.0) + 1.0 / d
    return rows


def bench_glove_counting(repeats):
    """GloVe's co-occurrence counting (NumPy/SciPy) against the plain-Python dict counter, same matrix."""
    import numpy as np

    import nlp

    sentences = _lee()
    glove = nlp.GloVe(vector_size=8, window=10, min_count=2)
    glove.build_vocab(sentences)
    ids, sent = glove._encode(sentences)
    ours = glove.build_cooccurrence(ids, sent).tocsr()
    peer = python_cooccurrence(sentences, glove.index, glove.window)
    dense = np.zeros(ours.shape)
    for a, row in enumerate(peer):
        dense[a, list(row)] = list(row.values())
    assert np.allclose(ours.toarray(), dense, rtol=1e-5), "the two counts differ"
    times = alternate({"ours": lambda: glove.build_cooccurrence(ids, sent),
                       "python": lambda: python_cooccurrence(sentences, glove.index, glove.window)},
                      repeats=repeats, warmup=1)
    emit("nlp", [{"measure": "GloVe co-occurrence counting, window 10 (peer time / ours, higher is better)",
                  "peer": "plain-Python dict counting (glove-python's Corpus.fit algorithm)",
                  "ratio": median_ratio(times["python"], times["ours"]),
                  "ours_s": round(statistics.median(times["ours"]), 3),
                  "python_s": round(statistics.median(times["python"]), 3), "nonzeros": ours.nnz}])


def bench_sentencepiece(repeats):
    import sentencepiece as spm

    import nlp

    texts = nlp.corpora.load("python-docs", unit="sentences")
    tok = nlp.SentencePieceTokenizer.train(texts, vocab_size=8000, model_type="bpe")
    raw = spm.SentencePieceProcessor(model_proto=tok.model_proto)
    batch = texts * 5
    assert tok.encode(batch[:200]) == raw.encode(batch[:200], out_type=int)
    times = alternate({"ours": lambda: tok.encode(batch), "raw": lambda: raw.encode(batch, out_type=int)},
                      repeats=repeats * 3, warmup=1)
    emit("nlp", [{
        "measure": "SentencePiece encode sentences/s (wrapper / raw, higher is better)",
        "peer": "sentencepiece 0.2 SentencePieceProcessor.encode",
        "ratio": statistics.median(b / a for a, b in zip(times["ours"], times["raw"])),
        "ours_sentences_per_s": round(len(batch) / statistics.median(times["ours"])),
        "raw_sentences_per_s": round(len(batch) / statistics.median(times["raw"])),
    }])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="1 repeat, 5 epochs")
    parser.add_argument("--only", default="sentencepiece,word2vec,fasttext,glove",
                        help="comma-separated: sentencepiece, word2vec, fasttext, glove")
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.epochs = 1, 5
    benches = {"sentencepiece": lambda: bench_sentencepiece(args.repeats),
               "word2vec": lambda: bench_word2vec(args.repeats, args.epochs),
               "fasttext": lambda: bench_fasttext(args.repeats, args.epochs),
               "glove": lambda: bench_glove_counting(args.repeats)}
    for name in args.only.split(","):
        benches[name]()


if __name__ == "__main__":
    main()
