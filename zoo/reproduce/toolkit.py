"""Training-toolkit entries of the reproduce suite: transfer learning and a grid search.

- ``transfer_digits_5-9``: ``simple_cnn`` pretrained on digits 0-4 (16x16, with
  augmentation), transferred to digits 5-9 with 10% of their labels (feature
  extraction, then fine-tuning), against the same model trained from scratch on
  those labels with the same recipe and epochs. The figure is the test-accuracy
  gain of transfer, averaged over seeds 0-2.
- ``grid_search_mlp``: ``zoo.tune`` grid over learning rate and width of the
  MLP on digits; the figure is the best validation accuracy.
"""

from __future__ import annotations

import os

from zoo.reproduce import entry


@entry("transfer_digits_5-9", data="digits", metric="mean test accuracy gain of transfer over scratch, 3 seeds",
       reference=0.01)
def transfer_digits(out_dir):
    import numpy as np

    from zoo.training.transfer import digits_transfer_experiment

    runs = [digits_transfer_experiment("simple_cnn", model_kwargs=dict(filters=(16, 32, 64)), seed=seed)
            for seed in (0, 1, 2)]
    rows = [f"| {seed} | {r['labelled']} | {r['source']:.3f} | {r['transfer']:.3f} | {r['scratch']:.3f} | "
            f"{r['scratch_unaugmented']:.3f} |" for seed, r in enumerate(runs)]
    table = "\n".join([
        "| seed | labels of 5-9 (10%) | pretrained, on 0-4 test | transferred | scratch, same recipe | "
        "scratch, no augmentation |",
        "|---:|---:|---:|---:|---:|---:|", *rows,
    ])
    print(table)
    mean = {k: float(np.mean([r[k] for r in runs])) for k in ("transfer", "scratch", "scratch_unaugmented")}
    return {"value": mean["transfer"] - mean["scratch"], "table": table, "history": runs[0]["histories"]["stage2"],
            **mean}


@entry("grid_search_mlp", data="digits", metric="best validation accuracy", reference=0.93)
def grid_search_mlp(out_dir):
    import zoo

    result = zoo.tune("mlp", "digits", space={"learning_rate": [1e-3, 1e-2], "hidden_units": [(32,), (128, 64)]},
                      method="grid", epochs=10, directory=os.path.join(out_dir, "tune"), overwrite=True)
    table = result.format_table()
    print(table)
    return {"value": result.best_score, "table": table, "best_config": {k: str(v) for k, v in result.best_config.items()}}
