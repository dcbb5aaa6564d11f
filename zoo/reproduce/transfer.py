"""Transfer that pays off: printed characters to handwritten digits, with few labels.

``simple_cnn.fonts`` (pretrained on the built-in fonts data set: 62 printed characters
rendered at 8x8 the way scikit-learn's digits were scanned, ``scripts/pretrain_fonts.py``)
is fine-tuned on scikit-learn's handwritten digits with 1, 2, 5, 10 and 20 labels per
class, against the same architecture trained from scratch on the same labels, both
tested on the same held-out split (``zoo.data.load("digits", seed=seed)``: the seed
draws the split, the labels and the initialisation).

Both recipes were tuned the same way, on the validation split of seeds 100-103 (never
the test split, never the reported seeds), over the same grid: learning rate, steps,
augmentation; each got its best (``docs/data-and-transfer.md`` has the grid and its
figures). The transfer keeps the pretrained head's rows of the ten digit classes (its
outputs are named by the characters: ``"0"``..``"9"``), so it starts from its zero-shot
answer instead of a random head, and fine-tunes everything, batch norm in inference mode.
"""

from __future__ import annotations

import os

import numpy as np

from zoo.reproduce import entry

LABELS_PER_CLASS = (1, 2, 5, 10, 20)

#: The recipes, each the best of the same grid on validation (seeds 100-103).
TRANSFER_RECIPE = dict(learning_rate=1e-3, steps=300, translate=0.12, rotate=0.03, batch_size=32)
SCRATCH_RECIPE = dict(learning_rate=3e-3, steps=600, translate=0.12, rotate=0.03, batch_size=32)


def head_from_classes(model, source_names, target_names):
    """``model`` with a head for ``target_names`` whose rows are copied from the head's outputs of the
    same names in ``source_names`` (a fresh row for a name it does not have)."""
    from zoo.core.naming import HEAD
    from zoo.training.transfer import replace_head

    kernel, bias = model.get_layer(HEAD).get_weights()
    new = replace_head(model, len(target_names))
    head = new.get_layer(HEAD)
    new_kernel, new_bias = head.get_weights()
    for i, name in enumerate(target_names):
        if name in source_names:
            j = list(source_names).index(name)
            new_kernel[:, i], new_bias[i] = kernel[:, j], bias[j]
    head.set_weights([new_kernel, new_bias])
    return new


def few_shot(mode, labels_per_class, seed, recipe, split="test", weights_dir=None) -> float:
    """Accuracy on ``split`` of scikit-learn's digits after training on ``labels_per_class`` labels per class.

    ``mode``: ``"transfer"`` (from ``simple_cnn.fonts``) or ``"scratch"`` (random weights).
    """
    import keras

    import zoo
    from zoo.core.recipe import scheduled_learning_rate
    from zoo.training.transfer import set_trainable

    splits = zoo.data.load("digits", seed=seed).with_labels_per_class(labels_per_class, seed=seed)
    keras.utils.set_random_seed(seed)
    if mode == "transfer":
        model = zoo.get("simple_cnn.fonts", weights_dir=weights_dir)
        model = head_from_classes(model, zoo.info("simple_cnn")["pretrained"]["fonts"]["class_names"],
                                  splits.class_names)
        set_trainable(model, "all")  # batch norm stays in inference mode, with the fonts' statistics
    else:
        model = zoo.get("simple_cnn", **{**zoo.info("simple_cnn")["pretrained"]["fonts"]["config"], "num_classes": 10})
    steps, batch = recipe["steps"], min(recipe["batch_size"], len(splits.labels("train")))
    model.compile(keras.optimizers.Adam(scheduled_learning_rate(recipe["learning_rate"], "cosine", steps)),
                  "sparse_categorical_crossentropy", metrics=["accuracy"])
    augment = zoo.data.augmentation(translate=recipe["translate"], rotate=recipe["rotate"]) \
        if recipe["translate"] or recipe["rotate"] else None
    model.fit(splits.dataset("train", batch_size=batch, augment=augment, repeat=True, seed=seed),
              steps_per_epoch=steps, epochs=1, verbose=0, shuffle=False)  # the pipeline shuffles
    x, y = splits.arrays(split)
    return float(model.evaluate(x, y, verbose=0, return_dict=True)["accuracy"])


def zero_shot(seed=0, split="test", model=None) -> float:
    """Accuracy of ``simple_cnn.fonts``'s digit outputs on the digits' ``split``, no digit label seen."""
    import zoo

    x, y = zoo.data.load("digits", seed=seed).arrays(split)
    model = model or zoo.get("simple_cnn.fonts")
    return float((model.predict(x, verbose=0)[:, :10].argmax(1) == y).mean())


def experiment(seeds, labels_per_class=LABELS_PER_CLASS, transfer=None, scratch=None, split="test", echo=print):
    """``{"transfer": {n: [accuracy per seed]}, "scratch": {...}}`` over ``labels_per_class`` and ``seeds``."""
    recipes = {"transfer": transfer or TRANSFER_RECIPE, "scratch": scratch or SCRATCH_RECIPE}
    out = {mode: {n: [] for n in labels_per_class} for mode in recipes}
    for n in labels_per_class:
        for seed in seeds:
            for mode, recipe in recipes.items():
                out[mode][n].append(few_shot(mode, n, seed, recipe, split=split))
        if echo:
            echo(f"    {n:>2} labels/class: transfer {np.mean(out['transfer'][n]):.3f}, "
                 f"scratch {np.mean(out['scratch'][n]):.3f}")
    return out


def plot(results, path, title):
    """Accuracy against labels per class, mean with the seeds' range shaded, for both curves."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from zoo.core.io import atomic_path

    fig, ax = plt.subplots(figsize=(6, 4))
    for mode, colour in (("transfer", "tab:blue"), ("scratch", "tab:orange")):
        sizes = sorted(results[mode])
        runs = np.array([results[mode][n] for n in sizes])
        label = "fine-tuned from simple_cnn.fonts" if mode == "transfer" else "from scratch (own tuned recipe)"
        ax.plot(sizes, runs.mean(1), "o-", color=colour, label=label)
        ax.fill_between(sizes, runs.min(1), runs.max(1), color=colour, alpha=0.2)
    ax.set_xscale("log")
    ax.set_xticks(sizes, [str(n) for n in sizes])
    ax.set_xlabel("labels per class")
    ax.set_ylabel("test accuracy on scikit-learn's digits")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
    return path


def _entry(out_dir, seeds):
    results = experiment(seeds, echo=None)  # the suite prints one line per entry
    gains = {n: float(np.mean(results["transfer"][n]) - np.mean(results["scratch"][n])) for n in results["transfer"]}
    import zoo

    fonts_model = zoo.get("simple_cnn.fonts")  # built once for every seed's split
    shot = float(np.mean([zero_shot(seed, model=fonts_model) for seed in seeds]))
    rows = [f"| {n} | {np.mean(results['transfer'][n]):.3f} ± {np.std(results['transfer'][n]):.3f} | "
            f"{np.mean(results['scratch'][n]):.3f} ± {np.std(results['scratch'][n]):.3f} | {gains[n]:+.3f} |"
            for n in results["transfer"]]
    table = "\n".join(["| labels per class | fine-tuned from fonts | from scratch | gain |", "|---:|---:|---:|---:|",
                       *rows, "", f"Zero-shot (no digit label, the fonts head's digit outputs): {shot:.3f}."])
    image = plot(results, os.path.join(out_dir, f"transfer_fonts_to_digits_{len(seeds)}seeds.png"),
                 f"fonts -> digits, {len(seeds)} seeds")
    worst = min(gains.values())
    # The reference holds two things: +8 points at 5 labels, and never below scratch (the worst gain if < 0).
    value = gains[5] if worst >= 0 else worst
    return {"value": value, "table": table, "images": [image], "gains": gains, "zero_shot": shot,
            "accuracies": {m: {str(n): v for n, v in r.items()} for m, r in results.items()}}


_METRIC = "gain at 5 labels/class (the worst gain if any size is below scratch)"


@entry("transfer_fonts_to_digits", data="fonts -> digits", metric=_METRIC, reference=0.08,
       suites=("quick",), seeded=True)
def transfer_fonts_to_digits(out_dir, seed=0):
    """The quick suite's: one seed (the suite's seed 0), 110 s on 2 cores; the full suite's has five."""
    return _entry(out_dir, seeds=(seed,))


@entry("transfer_fonts_to_digits_5seeds", data="fonts -> digits", metric=_METRIC + ", mean of 5 seeds", reference=0.08,
       suites=("full",))
def transfer_fonts_to_digits_5seeds(out_dir):
    return _entry(out_dir, seeds=(0, 1, 2, 3, 4))
