"""Reproduce-suite entries for the nlp package (word2vec quality, SentencePiece round trip)."""

from __future__ import annotations

import json
import os

from zoo.reproduce import entry


@entry("nlp-word2vec-sg-lee", data="lee_background.cor", metric="wordsim353 spearman", reference=0.2)
def word2vec_lee(out_dir):
    """Skip-gram, 100 dims, window 5, 5 negatives, min_count 2, 20 epochs (gensim: about 0.24)."""
    import gensim

    import nlp

    model = nlp.Word2Vec(nlp.corpora.load("lee-background"), sg=True, vector_size=100, window=5, negative=5,
                         min_count=2, epochs=20)
    wordsim = os.path.join(os.path.dirname(gensim.__file__), "test", "test_data", "wordsim353.tsv")
    result = model.wv.evaluate_word_pairs(wordsim)
    similar = [w for w, _ in model.wv.most_similar("attacks", topn=50)]
    model.wv.save_word2vec_format(os.path.join(out_dir, "word2vec_lee.bin"), binary=True)
    return {"value": result["spearman"], "pearson": result["pearson"],
            "bombings_rank_for_attacks": similar.index("bombings") + 1 if "bombings" in similar else None,
            "history": {"loss": [h["loss"] for h in model.history]}}


@entry("nlp-sentencepiece-bpe-roundtrip", data="python-docs", metric="exact round-trip fraction", reference=1.0)
def sentencepiece_roundtrip(out_dir):
    """BPE (8000 pieces, byte fallback) on 80% of the python-docs sentences; every held-out and random
    Unicode string must decode back exactly."""
    import random

    import nlp

    sentences = nlp.corpora.load("python-docs", unit="sentences")
    cut = int(0.8 * len(sentences))
    tok = nlp.SentencePieceTokenizer.train(sentences[:cut], vocab_size=8000, model_type="bpe")
    rng = random.Random(0)
    alphabet = [chr(c) for c in range(0x20, 0x3000) if not 0xD800 <= c < 0xE000] + ["😀", "\u2581", "\ue000", "\t", "\n"]
    probes = sentences[cut:] + ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 60))) for _ in range(500)]
    ids = tok.encode(probes)
    exact = sum(tok.decode(i) == p for i, p in zip(ids, probes)) / len(probes)
    held_out = sentences[cut:]
    chars_per_token = sum(map(len, held_out)) / max(sum(len(i) for i in ids[: len(held_out)]), 1)
    tok.save(os.path.join(out_dir, "sentencepiece_python_docs.json"))
    with open(os.path.join(out_dir, "sentencepiece_python_docs.txt"), "w") as f:
        f.write(json.dumps({"vocab_size": tok.vocab_size, "chars_per_token": chars_per_token}) + "\n")
    return {"value": exact, "chars_per_token_held_out": chars_per_token, "unk_ids": sum(i.count(tok.unk_id) for i in ids)}
