"""Reproduce entries for sequence and generative models.

- ``char_gpt`` and ``char_lstm``: character-level language models on the built-in
  English corpus (Python's ``pydoc_data.topics`` via ``nlp.corpora``), trained on
  the first 90% of the text; the figure is the validation loss on the last 10%
  in nats per character (a unigram model of the same text scores about 3.2).
- ``vae_digits``: the VAE's test reconstruction error relative to predicting the
  mean image (lower is better).
- ``dcgan_digits``: a "digits inception score" of 1,000 generated images, i.e.
  ``exp(E[KL(p(y|x) || p(y))])`` under a logistic-regression digit classifier
  (1 = one class or unrecognisable, 10 = confident and varied; the real test
  digits score about 8); a PNG grid of samples is saved.
"""

from __future__ import annotations

import os

import keras
import numpy as np

import zoo
from zoo.core.io import atomic_path
from zoo.core.recipe import compile_from_recipe
from zoo.layers.sampling import CharVocabulary
from zoo.models.transformer import LM_LOSS
from zoo.reproduce import entry

_CONTEXT = 64


def corpus_splits(val_fraction=0.1):
    """The built-in English corpus as (vocabulary, train ids, validation ids)."""
    from nlp import corpora

    text = corpora.load("python-docs", unit="text")
    vocab = CharVocabulary.from_text(text)
    ids = vocab.encode(text)
    cut = int(len(ids) * (1 - val_fraction))
    return vocab, ids[:cut], ids[cut:]


def _windows(ids, starts, length=_CONTEXT):
    idx = starts[:, None] + np.arange(length + 1)[None, :]
    chunk = ids[idx]
    return chunk[:, :-1], chunk[:, 1:]


def train_char_lm(model, train_ids, val_ids, steps, batch_size=64, learning_rate=3e-3, seed=0):
    """Train on random windows of ``train_ids``; returns (validation nats/char, history)."""
    rng = np.random.default_rng(seed)
    starts = rng.integers(0, len(train_ids) - _CONTEXT - 1, size=steps * batch_size)
    x, y = _windows(train_ids, starts)
    compile_from_recipe(model, dict(optimizer="adamw", loss=LM_LOSS),
                        learning_rate=learning_rate)
    chunks = 5  # report five points of the learning curve
    history = {"loss": [], "val_loss": []}
    xv, yv = _windows(val_ids, np.arange(0, len(val_ids) - _CONTEXT - 1, _CONTEXT))
    for part_x, part_y in zip(np.array_split(x, chunks), np.array_split(y, chunks)):
        h = model.fit(part_x, part_y, batch_size=batch_size, epochs=1, verbose=0)
        history["loss"].append(float(h.history["loss"][-1]))
        history["val_loss"].append(float(model.evaluate(xv, yv, batch_size=256, verbose=0)))
    return history["val_loss"][-1], history


@entry("char_gpt", data="python-docs (chars)", metric="val nats/char", reference=1.9, mode="min")
def char_gpt(out_dir):
    vocab, train_ids, val_ids = corpus_splits()
    keras.utils.set_random_seed(0)
    model = zoo.get("gpt_nano", vocabulary=vocab.chars, context_length=_CONTEXT, embed_dim=96, num_heads=4,
                    num_layers=3)
    value, history = train_char_lm(model, train_ids, val_ids, steps=300)
    sample = model.generate("The ", length=_CONTEXT - 4, temperature=0.8, seed=0)
    return {"value": value, "history": history, "sample": sample}


@entry("char_lstm", data="python-docs (chars)", metric="val nats/char", reference=2.1, mode="min")
def char_lstm(out_dir):
    vocab, train_ids, val_ids = corpus_splits()
    keras.utils.set_random_seed(0)
    model = zoo.get("char_lstm", vocabulary=vocab.chars, units=256, num_layers=1, embedding_dim=32)
    value, history = train_char_lm(model, train_ids, val_ids, steps=300)
    sample = model.generate("The ", length=120, temperature=0.8, seed=0)
    return {"value": value, "history": history, "sample": sample}


@entry("vae_digits", data="digits", metric="recon MSE / mean-image MSE", reference=0.5, mode="min")
def vae_digits(out_dir):
    (x, _), (xv, _), (xt, _) = zoo.data.load("digits", flat=True)
    keras.utils.set_random_seed(0)
    model = zoo.get("vae", latent_dim=8)
    model.compile(keras.optimizers.Adam(2e-3))
    h = model.fit(x, epochs=40, batch_size=32, validation_data=(xv,), verbose=0)
    recon = model.predict(xt, verbose=0)
    baseline = np.mean((xt - x.mean(axis=0)) ** 2)
    return {"value": float(np.mean((recon - xt) ** 2) / baseline),
            "history": {k: [float(v) for v in vs] for k, vs in h.history.items()}}


def digits_inception_score(images, classifier) -> float:
    """``exp(E_x[KL(p(y|x) || p(y))])`` of images (N, 8, 8, 1) in [0, 1] under ``classifier``."""
    p = np.clip(classifier.predict_proba(images.reshape(len(images), -1)), 1e-12, 1)
    marginal = p.mean(axis=0, keepdims=True)
    return float(np.exp(np.mean(np.sum(p * (np.log(p) - np.log(marginal)), axis=1))))


def digit_classifier(x, y):
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression(max_iter=2000).fit(x.reshape(len(x), -1), y)


def save_grid(images, path, columns=10):
    """Save images (N, H, W, 1) as one PNG grid; the write is atomic."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n, h, w = images.shape[:3]
    rows = int(np.ceil(n / columns))
    grid = np.ones((rows * (h + 1) + 1, columns * (w + 1) + 1))
    for i, img in enumerate(images[..., 0]):
        r, c = divmod(i, columns)
        grid[1 + r * (h + 1): 1 + r * (h + 1) + h, 1 + c * (w + 1): 1 + c * (w + 1) + w] = img
    grid = np.kron(grid, np.ones((8, 8)))  # 8x8 digits are too small to see otherwise
    with atomic_path(path, suffix=".png") as tmp:
        plt.imsave(tmp, grid, cmap="gray_r", vmin=0, vmax=1)
    return path


@entry("dcgan_digits", data="digits", metric="digits inception score", reference=3.5, mode="max")
def dcgan_digits(out_dir):
    (x, y), _, (xt, yt) = zoo.data.load("digits")
    keras.utils.set_random_seed(0)
    gan = zoo.get("dcgan")
    gan.compile(optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5), d_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5))
    h = gan.fit(x, epochs=30, batch_size=32, verbose=0)
    samples = gan.generate(1000, seed=0)
    clf = digit_classifier(x, y)
    path = save_grid(samples[:100], os.path.join(out_dir, "dcgan_digits.png"))
    return {"value": digits_inception_score(samples, clf), "images": [path],
            "real_test_score": digits_inception_score(xt, clf),
            "history": {k: [float(v) for v in vs] for k, vs in h.history.items()}}


@entry("bert_finetune_word_order", data="python-docs sentences", metric="test accuracy (pretrained)",
       reference=0.7)  # measured 0.717; the same classifier from scratch 0.617; chance 0.5
def bert_finetune(out_dir):
    """Pretrain BERT (masked LM, 80/10/10) on the corpus, then fine-tune a classifier that tells
    real sentences from the same words shuffled: bag-of-words cannot solve it (chance 0.5);
    the same classifier trained from scratch is reported beside it."""
    from nlp import corpora
    from nlp.tokenizers import WordTokenizer
    from zoo.models.transformer import mask_tokens

    rng = np.random.default_rng(0)
    keras.utils.set_random_seed(0)
    sentences = [s for s in corpora.load("python-docs", unit="sentences") if 8 <= len(s.split()) <= 24]
    sentences = [sentences[i] for i in rng.permutation(len(sentences))[:4000]]
    tok = WordTokenizer.train(sentences, max_vocab=3000)
    length = 26
    ids = np.asarray(tok.encode(sentences, add_bos=True, max_length=length, padding="max_length"), "int32")
    sizes = dict(vocab_size=tok.vocab_size, context_length=length, num_layers=2, num_heads=2, embed_dim=64)

    bert = zoo.get("bert", **sizes)
    compile_from_recipe(bert, zoo.info("bert")["recipe"], learning_rate=2e-3)
    mlm_loss = []
    for epoch in range(6):  # dynamic masking: fresh masks every epoch
        x, y, w = mask_tokens(ids, tok.vocab_size, seed=epoch)
        mlm_loss += bert.fit(x, y, sample_weight=w, epochs=1, batch_size=64, verbose=0).history["loss"]

    shuffled = ids.copy()
    for row in shuffled:
        words = row[1:][row[1:] != 0]  # keep [CLS] first and the padding last
        row[1:1 + len(words)] = rng.permutation(words)
    half = len(ids) // 2
    x = np.concatenate([ids[:half], shuffled[half:]])
    y = np.concatenate([np.ones(half), np.zeros(len(ids) - half)]).astype("int32")
    order = rng.permutation(len(x))
    x, y = x[order], y[order]
    cut = int(0.8 * len(x))
    results, histories = {}, {}
    for label, encoder in (("pretrained", bert), ("scratch", None)):
        keras.utils.set_random_seed(0)
        kwargs = dict(encoder=encoder) if encoder is not None else dict(sizes)
        clf = zoo.get("bert_classifier", num_classes=2, **kwargs)
        compile_from_recipe(clf, zoo.info("bert_classifier")["recipe"], learning_rate=1e-3)
        histories[label] = clf.fit(x[:cut], y[:cut], validation_split=0.1, epochs=4, batch_size=64,
                                   verbose=0).history
        results[label] = clf.evaluate(x[cut:], y[cut:], verbose=0, return_dict=True)["accuracy"]
    table = ("| classifier | test accuracy |\n|---|---:|\n"
             + "\n".join(f"| {k} | {v:.3f} |" for k, v in results.items())
             + f"\n\nMLM loss {mlm_loss[0]:.2f} → {mlm_loss[-1]:.2f} over 6 epochs of dynamic masking.")
    return {"value": results["pretrained"], "table": table, "scratch_accuracy": results["scratch"],
            "history": histories["pretrained"]}
