"""Training-toolkit entries of the reproduce suite (transfer learning has its own, ``transfer.py``).

- ``grid_search_mlp``: ``zoo.tune`` grid over learning rate and width of the
  MLP on digits; the figure is the best validation accuracy.
"""

from __future__ import annotations

import os

from zoo.reproduce import entry


@entry("grid_search_mlp", data="digits", metric="best validation accuracy", reference=0.93)
def grid_search_mlp(out_dir):
    import zoo

    result = zoo.tune("mlp", "digits", space={"learning_rate": [1e-3, 1e-2], "hidden_units": [(32,), (128, 64)]},
                      method="grid", epochs=10, directory=os.path.join(out_dir, "tune"), overwrite=True)
    table = result.format_table()  # in report.md; the console gets one line per entry
    return {"value": result.best_score, "table": table, "best_config": {k: str(v) for k, v in result.best_config.items()}}
