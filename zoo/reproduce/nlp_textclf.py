"""A text classifier end to end: which built-in corpus a sentence comes from, learnt from 4 labels per class.

**The task.** Distinct sentences with at least 5 words from ``python-docs``
(Python's help topics) and ``lee-background`` (news); the label is the corpus. ``seed`` draws a
balanced test set (500 sentences per class) and ``labels_per_class`` labelled
training sentences per class from the rest. Every sentence outside the test set
is the *unlabelled* text (its labels unused) on which the ``WordTokenizer``'s
vocabulary and word2vec are trained. Why this task: its labels are facts (no
annotator, no download), and with 4 labels per class the 8 labelled sentences
hold 84 to 151 distinct words (seeds 0-4), so about two thirds of the words of a
test sentence were never seen with a label: what a pretrained embedding is for. Punctuation is stripped,
so the model cannot lean on code's brackets.

**The runs** (same seed, same head initialisation, same steps of full batches):
pretrained vectors frozen; pretrained fine-tuned; random embedding trained;
random embedding frozen. The figure is the frozen pretrained model's test
accuracy minus the *best* random-embedding accuracy (trained or frozen).
The frozen pretrained model is exported with ``zoo.export.saved_model``,
reloaded in this process and in a new one, and queried with the raw test
strings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np

from zoo.reproduce import entry

CORPORA = ("python-docs", "lee-background")

#: The recipe of the entry (measured on seeds 0-4, docs/nlp.md#a-text-classifier-end-to-end).
RECIPE = dict(labels_per_class=4, test_per_class=500, min_words=5, vector_size=50, window=5, min_count=2,
              w2v_epochs=20, sequence_length=64, steps=100, batch_size=32, learning_rate=1e-2)

RUNS = (("pretrained, frozen", True, False), ("pretrained, fine-tuned", True, True),
        ("random, trained", False, True), ("random, frozen", False, False))


def source_task(seed=0, labels_per_class=4, test_per_class=500, min_words=5):
    """The corpus-identification task: a dict of ``train``/``test`` ``(texts, labels)``, ``unlabelled``, ``classes``."""
    import nlp
    from zoo.core.checks import check_int

    for arg, value in (("seed", seed), ("labels_per_class", labels_per_class), ("test_per_class", test_per_class),
                       ("min_words", min_words)):
        check_int(arg, value, 0 if arg in ("seed", "min_words") else 1, owner="source_task")
    rng = np.random.default_rng(seed)
    train, test, unlabelled = ([], []), ([], []), []
    # each sentence once (python-docs repeats a fifth of its sentences), none in both corpora: no test sentence
    # is among the training or unlabelled ones
    pools = [list(dict.fromkeys(s for s in nlp.corpora.load(name, unit="sentences")
                                if len(nlp.corpora.tokenize_words(s)) >= min_words)) for name in CORPORA]
    shared = set(pools[0]).intersection(*pools[1:])
    for label, (name, pool) in enumerate(zip(CORPORA, pools)):
        sentences = [s for s in pool if s not in shared]
        if len(sentences) < test_per_class + labels_per_class:
            raise ValueError(f"source_task: {name} has {len(sentences)} sentences of {min_words}+ words; "
                             f"test_per_class + labels_per_class = {test_per_class + labels_per_class} is too many")
        order = rng.permutation(len(sentences))
        for i in order[:test_per_class]:
            test[0].append(sentences[i])
            test[1].append(label)
        for i in order[test_per_class:test_per_class + labels_per_class]:
            train[0].append(sentences[i])
            train[1].append(label)
        unlabelled += [sentences[i] for i in order[test_per_class:]]
    return {"train": (train[0], np.array(train[1])), "test": (test[0], np.array(test[1])),
            "unlabelled": unlabelled, "classes": list(CORPORA)}


def predict_in_new_process(path, texts, timeout=300):
    """Probabilities of a SavedModel's ``serving_default`` for raw ``texts``, computed by a fresh Python process."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        query, answer = os.path.join(tmp, "texts.json"), os.path.join(tmp, "outputs.npy")
        with open(query, "w", encoding="utf-8") as f:
            json.dump(list(texts), f)
        env = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "TF_CPP_MIN_LOG_LEVEL": "2"}
        proc = subprocess.run([sys.executable, "-m", "zoo.reproduce.nlp_textclf", os.fspath(path), query, answer],
                              env=env, capture_output=True, text=True, timeout=timeout)
        if proc.returncode:
            lines = [line for line in proc.stderr.splitlines() if "Error" in line]
            raise RuntimeError(f"the SavedModel {os.fspath(path)!r} failed in a new process: "
                               f"{(lines or proc.stderr.splitlines() or ['no output'])[-1]}")
        return np.load(answer, allow_pickle=False)


def run(out_dir, seed=0, **overrides):
    """Train the four runs of the module docstring on ``source_task(seed)``; export and reload the frozen pretrained one.

    Returns ``{"accuracy": {run: test accuracy}, "coverage", "export": path, "probabilities"}``.
    """
    import keras

    import nlp
    import zoo

    unknown = sorted(set(overrides) - set(RECIPE))
    if unknown:
        raise ValueError(f"run: invalid recipe keys {unknown}; expected some of {sorted(RECIPE)}")
    r = {**RECIPE, **overrides}
    task = source_task(seed, r["labels_per_class"], r["test_per_class"], r["min_words"])
    tok = nlp.WordTokenizer.train(task["unlabelled"], min_frequency=r["min_count"], punctuation="strip")
    w2v = nlp.Word2Vec(task["unlabelled"], vector_size=r["vector_size"], window=r["window"], min_count=r["min_count"],
                       epochs=r["w2v_epochs"], seed=seed)
    (x, y), (xt, yt) = task["train"], task["test"]
    accuracy, models = {}, {}
    for name, pretrained, trainable in RUNS:
        keras.utils.set_random_seed(seed)  # the same head initialisation in every run
        model = nlp.text_classifier(tok, len(task["classes"]), vectors=w2v.wv if pretrained else None,
                                    embedding_dim=r["vector_size"], trainable=trainable,
                                    sequence_length=r["sequence_length"])
        nlp.train_text_classifier(model, x, y, steps=r["steps"], batch_size=r["batch_size"],
                                  learning_rate=r["learning_rate"], seed=seed)
        probs = model.predict(np.array(xt, dtype=object), batch_size=256, verbose=0)
        accuracy[name] = float((probs.argmax(-1) == yt).mean())
        models[name] = (model, probs)
    model, probs = models["pretrained, frozen"]
    path = zoo.export.saved_model(model, os.path.join(out_dir, "text_classifier", "1"))
    return {"accuracy": accuracy, "coverage": float(model.get_layer("embedding").coverage), "export": path,
            "probabilities": probs, "test_texts": xt, "vocab_size": tok.vocab_size, "words_with_vectors": len(w2v.wv)}


@entry("nlp-text-classifier-word2vec", data="python-docs + lee-background", seeded=True,
       metric="test accuracy gain of pretrained word2vec over a random embedding", reference=0.2)
def text_classifier_word2vec(out_dir, seed=0):
    """4 labels per class; pretrained frozen vs the best random embedding.

    Seeds 0-4 gave 0.243, 0.238, 0.223, 0.273, 0.249 (pretrained 0.92 to 0.99, random trained 0.68 to 0.76):
    the reference, 0.2, is below the worst seed. word2vec trains 20 epochs, as on lee-background in
    docs/nlp.md's figures: with gensim's per-pair SGD, 5 epochs gave 0.162 to 0.231.
    """
    from zoo.inference import SavedModelRunner

    out = run(out_dir, seed)
    acc, probs, texts = out["accuracy"], out["probabilities"], out["test_texts"]
    here = SavedModelRunner(out["export"]).predict_batch(np.array(texts, dtype=object))
    if not np.allclose(here, probs, atol=1e-6):
        raise RuntimeError(f"the reloaded SavedModel disagrees with the model by {np.abs(here - probs).max():.3g}")
    there = predict_in_new_process(out["export"], texts)  # raises when the SavedModel cannot run there
    if not np.allclose(there, probs, atol=1e-6):
        raise RuntimeError(f"the SavedModel disagrees in a new process by {np.abs(there - probs).max():.3g}")
    new_process = f"same predictions (max difference {np.abs(there - probs).max():.1g})"
    best_random = max(acc["random, trained"], acc["random, frozen"])
    table = "| embedding | test accuracy |\n|---|---:|\n" + "".join(f"| {k} | {v:.3f} |\n" for k, v in acc.items())
    return {"value": acc["pretrained, frozen"] - best_random, "accuracy": acc, "coverage": out["coverage"],
            "savedmodel_new_process": new_process, "table": table}


def _main(path, query, answer):
    """``python -m zoo.reproduce.nlp_textclf SAVEDMODEL TEXTS.json OUT.npy``: what :func:`predict_in_new_process` runs."""
    from zoo.core import quiet

    quiet.install()
    from zoo.inference import SavedModelRunner

    with open(query, encoding="utf-8") as f:
        texts = json.load(f)
    np.save(answer, SavedModelRunner(path).predict_batch(np.array(texts, dtype=object)))
    return 0


if __name__ == "__main__":
    sys.exit(_main(*sys.argv[1:4]))
