"""Training-toolkit entries of the reproduce suite: transfer learning and a grid search.

- ``transfer_digits_5-9``: ``simple_cnn`` pretrained on digits 0-4, transferred
  to digits 5-9 with 10% of their labels (feature extraction, then fine-tuning),
  against the same model trained from scratch on those labels for the same
  number of epochs. The figure is the test-accuracy gain of transfer.
- ``grid_search_mlp``: ``zoo.tune`` grid over learning rate and width of the
  MLP on digits; the figure is the best validation accuracy.
"""

from __future__ import annotations

import os

from zoo.reproduce import entry


@entry("transfer_digits_5-9", data="digits", metric="test accuracy gain of transfer over scratch", reference=0.05)
def transfer_digits(out_dir):
    from zoo.transfer import digits_transfer_experiment

    out = digits_transfer_experiment("simple_cnn", label_fraction=0.1, pretrain_epochs=20,
                                     model_kwargs=dict(filters=(16, 32, 64)))
    table = "\n".join([
        "| model (digits 5-9, test) | accuracy |",
        "|---|---:|",
        f"| pretrained on digits 0-4 (its own test accuracy on 0-4) | {out['source']:.3f} |",
        f"| transferred, trained on {out['labelled']} labels (10%) | {out['transfer']:.3f} |",
        f"| same model from scratch on the same labels, same epochs | {out['scratch']:.3f} |",
    ])
    print(table)
    return {"value": out["transfer"] - out["scratch"], "table": table, "history": out["histories"]["stage2"],
            "transfer": out["transfer"], "scratch": out["scratch"], "source": out["source"]}


@entry("grid_search_mlp", data="digits", metric="best validation accuracy", reference=0.93)
def grid_search_mlp(out_dir):
    import zoo

    result = zoo.tune("mlp", "digits", space={"learning_rate": [1e-3, 1e-2], "hidden_units": [(32,), (128, 64)]},
                      method="grid", epochs=10, directory=os.path.join(out_dir, "tune"), overwrite=True)
    table = result.format_table()
    print(table)
    return {"value": result.best_score, "table": table, "best_config": {k: str(v) for k, v in result.best_config.items()}}
