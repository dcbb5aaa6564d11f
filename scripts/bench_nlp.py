"""nlp benchmarks against the peers, timed alternately in one run (see benchlib).

    python scripts/bench_nlp.py [--repeats 3] [--epochs 20]

1. Word2Vec training words/s: ``nlp.Word2Vec`` against gensim's ``Word2Vec``
   (2 workers) on ``lee_background.cor`` with the same settings (skip-gram,
   100 dimensions, window 5, 5 negatives, min_count 2, ``--epochs``), each
   timed from the token lists to trained vectors, with both wordsim353
   Spearman figures. Ratio = our words/s / gensim's (higher is better).
2. SentencePiece encode throughput: ``nlp.SentencePieceTokenizer.encode`` on
   the python-docs sentences against the raw ``SentencePieceProcessor.encode``
   of the same model. Ratio = our sentences/s / raw (higher is better).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchlib import alternate, emit  # noqa: E402


def bench_word2vec(repeats, epochs):
    import gensim
    from gensim.models import Word2Vec as GensimWord2Vec

    import nlp

    sentences = [nlp.corpora.tokenize_words(d) for d in nlp.corpora.load("lee-background")]
    words = sum(map(len, sentences)) * epochs
    wordsim = os.path.join(os.path.dirname(gensim.__file__), "test", "test_data", "wordsim353.tsv")
    settings = dict(vector_size=100, window=5, negative=5, min_count=2, epochs=epochs)
    models = {}

    def ours():
        models["ours"] = nlp.Word2Vec(sentences, sg=True, seed=len(models), **settings)

    def peer():
        models["gensim"] = GensimWord2Vec(sentences, sg=1, workers=2, seed=len(models), **settings)

    times = alternate({"ours": ours, "gensim": peer}, repeats=repeats, warmup=1)
    ours_wps = [words / t for t in times["ours"]]
    peer_wps = [words / t for t in times["gensim"]]
    spearman_ours = models["ours"].wv.evaluate_word_pairs(wordsim)["spearman"]
    spearman_peer = models["gensim"].wv.evaluate_word_pairs(wordsim)[1].statistic
    emit("nlp", [{
        "measure": "word2vec training words/s (ours / gensim, higher is better)",
        "peer": "gensim 4.4 Word2Vec, 2 workers",
        "ratio": statistics.median(a / b for a, b in zip(ours_wps, peer_wps)),
        "ours_words_per_s": round(statistics.median(ours_wps)),
        "gensim_words_per_s": round(statistics.median(peer_wps)),
        "ours_spearman": round(float(spearman_ours), 3),
        "gensim_spearman": round(float(spearman_peer), 3),
    }])


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
    args = parser.parse_args(argv)
    if args.quick:
        args.repeats, args.epochs = 1, 5
    bench_sentencepiece(args.repeats)
    bench_word2vec(args.repeats, args.epochs)


if __name__ == "__main__":
    main()
