"""One suite entry per registered model that has a reference recipe and result, run on every seed of the suite."""

from zoo import registry
from zoo.reproduce import entry
from zoo.training import train_recipe


def _model_entry(name):
    def run(out_dir, seed=0):
        result = train_recipe(name, seed=seed)
        metric = registry.info(name)["reference"]["metric"]
        return {"value": result.test[metric], "history": result.history.history}

    return run


def _register_all():
    for name in registry.list_models():
        meta = registry.info(name)
        ref = meta["reference"]
        if meta["recipe"] and ref and "value" in ref:
            entry(
                name,
                data=ref.get("data", meta["recipe"].get("data", "?")),
                metric=ref["metric"],
                reference=ref["value"],
                mode=ref.get("mode", "max"),
                suites=tuple(meta["recipe"].get("suites", ("quick", "full"))),
                seeded=True,
            )(_model_entry(name))


_register_all()
