"""The model registry: ``register`` / ``get`` / ``list_models`` / ``info``.

Every model in the zoo is reached through one construction path. A family file
has one builder function and thin registered entry points that only hold the
architecture's data (timm's ``resnet.py``, keras.applications' ``ResNet``):

    @register("resnet50", builder=_resnet, family="resnet", params=25_636_712, ...)
    def resnet50():
        return dict(block="bottleneck", depths=(3, 4, 6, 3))

An entry point without ``builder=`` is itself the builder (its keyword
arguments are the accepted overrides). ``get`` checks every override against
the builder's signature and the common image-model arguments *before* any layer
is built, then loads local weights, once, for every model.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import inspect
import logging
import numbers
import os
from collections.abc import Callable
from typing import Any

from zoo.core.checks import check_bool, check_path, check_str, check_type, fail, is_int
from zoo.core.naming import HEAD_LAYER_NAMES
from zoo.core.plugins import load_plugins

log = logging.getLogger("zoo")

__all__ = [
    "ModelInfo",
    "UnknownModelError",
    "register",
    "get",
    "list_models",
    "info",
    "list_pretrained",
    "load_weights",
    "HEAD_LAYER_NAMES",
]

#: Arguments that ``get`` handles itself rather than passing to a builder.
_REGISTRY_ARGS = ("weights", "compile", "weights_dir", "download", "strict")


class UnknownModelError(KeyError):
    """Raised by ``get``/``info`` for a name that is not registered."""

    def __str__(self):  # KeyError quotes its message; show it plainly.
        return str(self.args[0])


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    """Metadata of one registered model. All of it is data, none is computed."""

    name: str
    family: str
    task: str
    paper: str = ""
    params: int | None = None  # parameter count of the default configuration
    min_input_shape: tuple | None = None
    input_range: str | None = None  # what the model expects, e.g. "[0, 1]" or "[-1, 1]"
    keras_app: str | None = None  # the keras.applications twin (constructor name), e.g. "ResNet50"
    block_pattern: str | None = None  # regex whose group 1 names a backbone block (default: core.naming.BLOCK_RE)
    recipe: dict | None = None  # reference training recipe (see zoo.train)
    reference: dict | None = None  # result the recipe reproduces: data, metric, value
    test_config: dict | None = None  # small overrides for the registry-driven tests
    example: Callable | None = None  # example(model, batch, rng) -> (x, y) for non-float inputs
    pretrained: dict = dataclasses.field(default_factory=dict)  # tag -> zoo.weights.pretrained.Pretrained
    description: str = ""
    builder: Callable | None = dataclasses.field(default=None, repr=False, compare=False)
    entry: Callable | None = dataclasses.field(default=None, repr=False, compare=False)

    def config(self) -> dict:
        """The architecture data of the entry point (empty for self-building entries)."""
        return dict(self.entry()) if self.builder is not self.entry else {}

    def accepted_arguments(self) -> list[str]:
        sig = inspect.signature(self.builder)
        fixed = set(self.config())
        names = [
            p.name
            for p in sig.parameters.values()
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in fixed
        ]
        return sorted(set(names) | set(_REGISTRY_ARGS) | fixed)

    def defaults(self) -> dict:
        """Default value of every builder argument, with the entry's data applied."""
        sig = inspect.signature(self.builder)
        values = {
            p.name: p.default
            for p in sig.parameters.values()
            if p.default is not inspect.Parameter.empty
        }
        values.update(self.config())
        return values

    def as_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        out.pop("builder")
        out.pop("entry")
        out["pretrained"] = {tag: p.as_dict() for tag, p in self.pretrained.items()}
        return out


_REGISTRY: dict[str, ModelInfo] = {}


def register(
    name: str | None = None,
    *,
    family: str,
    task: str,
    builder: Callable | None = None,
    paper: str = "",
    params: int | None = None,
    min_input_shape: tuple | None = None,
    input_range: str | None = None,
    keras_app: str | None = None,
    block_pattern: str | None = None,
    recipe: dict | None = None,
    reference: dict | None = None,
    test_config: dict | None = None,
    example: Callable | None = None,
    pretrained: tuple = (),
):
    """Decorator that registers an entry point under ``name`` (default: its ``__name__``).

    ``pretrained``: the model's weight tags (``zoo.weights.pretrained.Pretrained``), so that
    ``zoo.get(name, weights=tag)`` and ``zoo.get(f"{name}.{tag}")`` load them.
    """

    check_str("name", name, owner="zoo.register", allow_none=True, accepted="a model name")
    for arg, value in (("family", family), ("task", task)):
        check_str(arg, value, owner="zoo.register")
    for arg, value in (("paper", paper), ("input_range", input_range), ("keras_app", keras_app),
                       ("block_pattern", block_pattern)):
        check_str(arg, value, owner="zoo.register", allow_none=arg != "paper")
    if builder is not None and not callable(builder):
        fail("builder", builder, "None or a callable that builds the model", "zoo.register", error=TypeError)
    for arg, value in (("recipe", recipe), ("reference", reference), ("test_config", test_config)):
        check_type(arg, value, dict, "a dict", owner="zoo.register", allow_none=True)

    def decorate(entry: Callable) -> Callable:
        if not callable(entry):
            fail("entry", entry, "a function (the decorated entry point)", "zoo.register", error=TypeError)
        model_name = name or entry.__name__
        if model_name in _REGISTRY:
            raise ValueError(f"model {model_name!r} is already registered")
        _REGISTRY[model_name] = ModelInfo(
            name=model_name,
            family=family,
            task=task,
            paper=paper,
            params=params,
            min_input_shape=tuple(min_input_shape) if min_input_shape else None,
            input_range=input_range,
            keras_app=keras_app,
            block_pattern=block_pattern,
            recipe=recipe,
            reference=reference,
            test_config=test_config,
            example=example,
            pretrained={p.tag: p for p in pretrained},
            description=inspect.cleandoc(entry.__doc__ or "").split("\n")[0],
            builder=builder or entry,
            entry=entry,
        )
        return entry

    return decorate


def _ensure_models_imported():
    # Importing the families fills the registry (timm does the same); then the plugins' families.
    import zoo.models  # noqa: F401

    load_plugins("dlzoo.models")


def _lookup(name: str, owner: str = "zoo.get") -> ModelInfo:
    _ensure_models_imported()
    check_name(name, owner)
    if name in _REGISTRY:
        return _REGISTRY[name]
    close = difflib.get_close_matches(name, [*_REGISTRY, *_tagged_names()], n=3, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else "; see zoo.list_models()"
    raise UnknownModelError(f"unknown model {name!r}{hint}")


def check_name(name, owner: str = "zoo.get"):
    """A ``TypeError`` for a model name that is not a string (``zoo.get(42)``), before any lookup."""
    check_str("name", name, owner, accepted="a string (a registered model name such as 'resnet50', see "
                                             "zoo.list_models())")


_GLOB = "a string (a glob such as 'resnet*')"


def list_models(pattern: str = "*", family: str | None = None, task: str | None = None) -> list[str]:
    """Registered names matching an fnmatch ``pattern``, optionally one family or task, sorted."""
    check_str("pattern", pattern, "zoo.list_models", accepted=_GLOB)
    check_str("family", family, "zoo.list_models", allow_none=True, accepted="a family name such as 'resnet'")
    check_str("task", task, "zoo.list_models", allow_none=True, accepted="a task name such as 'classification'")
    _ensure_models_imported()
    return sorted(
        n
        for n, m in _REGISTRY.items()
        if fnmatch.fnmatchcase(n, pattern)
        and (family is None or m.family == family)
        and (task is None or m.task == task)
    )


def _tagged_names() -> list[str]:
    return [f"{n}.{tag}" for n, m in _REGISTRY.items() for tag in m.pretrained]


def _split_tag(name: str) -> tuple[str, str | None]:
    """``"resnet50.imagenet"`` -> ``("resnet50", "imagenet")``; an untagged name -> ``(name, None)``."""
    _ensure_models_imported()
    if isinstance(name, str) and name not in _REGISTRY and "." in name:
        base, _, tag = name.rpartition(".")
        if base in _REGISTRY:
            if tag not in _REGISTRY[base].pretrained:
                close = difflib.get_close_matches(name, _tagged_names(), n=3, cutoff=0.6)
                hint = f"; did you mean {', '.join(close)}?" if close else "; see zoo.list_pretrained()"
                raise UnknownModelError(f"unknown pretrained tag {name!r}{hint}")
            return base, tag
    return name, None


def list_pretrained(pattern: str = "*") -> list[str]:
    """Tagged names ``model.tag`` whose model or tagged name matches an fnmatch ``pattern``, sorted."""
    check_str("pattern", pattern, "zoo.list_pretrained", accepted=_GLOB)
    _ensure_models_imported()
    return sorted(t for t in _tagged_names()
                  if fnmatch.fnmatchcase(t, pattern) or fnmatch.fnmatchcase(t.rpartition(".")[0], pattern))


def info(name: str) -> dict:
    """Metadata of ``name``: family, task, paper, params, min input, recipe, reference, pretrained tags, defaults."""
    check_name(name, "zoo.info")
    meta = _lookup(_split_tag(name)[0], "zoo.info")
    out = meta.as_dict()
    out["defaults"] = {k: v for k, v in meta.defaults().items() if k != "keras"}
    out["arguments"] = meta.accepted_arguments()
    return out


# --------------------------------------------------------------------------- validation


def _fail(name, arg, value, accepted):
    fail(arg, value, accepted, owner=name)


def _validate_common(meta: ModelInfo, args: dict):
    """Checks shared by every model, so that bad values fail before any layer is built."""
    name = meta.name
    if "num_classes" in args:
        n = args["num_classes"]
        if not is_int(n) or n < 1:
            _fail(name, "num_classes", n, "a positive integer")
    if "input_shape" in args and args["input_shape"] is not None:
        shape = args["input_shape"]
        if not isinstance(shape, (tuple, list)) or not all(
            s is None or (is_int(s) and s > 0) for s in shape
        ):
            _fail(name, "input_shape", shape, "a tuple of positive integers")
        minimum = meta.min_input_shape
        if minimum is not None:
            if len(shape) != len(minimum):
                _fail(
                    name, "input_shape", tuple(shape),
                    f"a shape of rank {len(minimum)} (without the batch axis), at least {minimum}",
                )
            for got, least in zip(shape, minimum):
                if got is not None and least is not None and got < least:
                    _fail(name, "input_shape", tuple(shape), f"every dimension at least {minimum}")
    if "dropout" in args:
        d = args["dropout"]
        if not isinstance(d, numbers.Real) or isinstance(d, bool) or not 0 <= d < 1:
            _fail(name, "dropout", d, "a number in [0, 1)")
    if "pooling" in args and args["pooling"] not in (None, "avg", "max"):
        _fail(name, "pooling", args["pooling"], "None, 'avg' or 'max'")
    for flag in ("include_top", "features"):
        if flag in args and not isinstance(args[flag], bool):
            _fail(name, flag, args[flag], "True or False")
    if "classifier_activation" in args:
        act = args["classifier_activation"]
        if act is not None and not isinstance(act, str) and not callable(act):
            _fail(name, "classifier_activation", act, "None, an activation name or a callable")


def _check_overrides(meta: ModelInfo, overrides: dict) -> dict:
    accepted = meta.accepted_arguments()
    unknown = [k for k in overrides if k not in accepted]
    if unknown:
        arg = unknown[0]
        close = difflib.get_close_matches(arg, accepted, n=2)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise ValueError(
            f"{meta.name}: unknown argument {arg!r}{hint}; accepted: {', '.join(accepted)}"
        )
    args = meta.config()
    args.update({k: v for k, v in overrides.items() if k not in _REGISTRY_ARGS})
    _validate_common(meta, args)
    return args


# --------------------------------------------------------------------------- construction


def get(name: str, **overrides: Any):
    """Build registered model ``name`` with ``overrides`` applied.

    ``weights=`` a pretrained tag (``"imagenet"``; ``zoo.get("resnet50.imagenet")`` is
    the same) loads the published weights, offline first (``weights_dir=``,
    ``download=``, ``strict=``: see :mod:`zoo.weights.pretrained`); a local
    ``.weights.h5`` or ``.keras`` file loads its weights. Either way a top with
    another class count is kept freshly initialised and the rest loads.
    ``compile=True`` compiles with the registered reference recipe.
    """
    check_name(name, "zoo.get")
    for flag in ("compile", "strict"):
        if flag in overrides:
            check_bool(flag, overrides[flag], owner="zoo.get")
    if overrides.get("download") is not None:
        check_bool("download", overrides["download"], owner="zoo.get")
    check_path("weights_dir", overrides.get("weights_dir"), owner="zoo.get", allow_none=True)
    name, tag = _split_tag(name)
    meta = _lookup(name)
    if tag is not None:
        if overrides.get("weights") not in (None, tag):
            _fail(name, "weights", overrides["weights"], f"None or {tag!r} with the tagged name {name}.{tag}")
        overrides = {**overrides, "weights": tag}
    weights = overrides.get("weights")
    pretrained = _pretrained_tag(meta, weights)
    if pretrained is not None and pretrained.config:  # the arguments the weights were trained with
        overrides = {**pretrained.config, **overrides}
    args = _check_overrides(meta, overrides)
    if weights is not None and pretrained is None:
        check_weights_path(name, weights)

    model = meta.builder(**args)
    if pretrained is not None:
        from zoo.weights.pretrained import load_pretrained

        config = {**meta.defaults(), **args}
        load_pretrained(model, name, pretrained, config, weights_dir=overrides.get("weights_dir"),
                        download=overrides.get("download"), strict=bool(overrides.get("strict", False)))
    elif weights is not None:
        load_weights(model, weights, rebuild=lambda: meta.builder(**args))
    if overrides.get("compile"):
        from zoo.core.recipe import compile_from_recipe

        compile_from_recipe(model, meta.recipe or {}, name=name)
    remember_build(model, name, {k: v for k, v in overrides.items() if k not in _REGISTRY_ARGS})
    return model


def _pretrained_tag(meta: ModelInfo, weights):
    """The registered tag ``weights`` names, None for a path; a clear error for anything else."""
    if weights is None:
        return None
    if not isinstance(weights, (str, os.PathLike)):
        tags = ", ".join(repr(t) for t in meta.pretrained) or "none for this model"
        _fail(meta.name, "weights", weights, f"None or a path to a local .weights.h5 or .keras file, or a pretrained "
                                              f"tag ({tags})")
    text = os.fspath(weights)
    if text in meta.pretrained:
        return meta.pretrained[text]
    if text.endswith((".weights.h5", ".keras")) or os.sep in text:
        return None
    having = sorted(n for n, m in _REGISTRY.items() if text in m.pretrained)
    if having:
        raise ValueError(f"{meta.name}: invalid weights={text!r}: {meta.name} has no {text!r} weights; the models "
                         f"that have them: {', '.join(having)}")
    tags = sorted({t for m in _REGISTRY.values() for t in m.pretrained})
    raise ValueError(f"{meta.name}: invalid weights={text!r}; expected a path ending in .weights.h5 or .keras, or a "
                     f"pretrained tag ({', '.join(map(repr, tags)) or 'none registered'})")


def remember_build(model, name: str, args: dict):
    """Record on ``model`` how ``get`` built it: ``model._zoo_build == (name, overrides)``.

    ``zoo.quantize`` rebuilds the tf-keras twin of a model from this (same
    builder, same arguments, ``keras=tf_keras``). Set with ``object.__setattr__``
    so that Keras does not track it as model state.
    """
    try:
        object.__setattr__(model, "_zoo_build", (name, {k: v for k, v in args.items() if k != "keras"}))
    except (AttributeError, TypeError):  # a builder may return something that refuses attributes
        pass


def load_weights(model, path, rebuild: Callable | None = None, allow_head_mismatch: bool = True):
    """Load a local weights file into ``model`` all-or-nothing (see :func:`zoo.weights.load_weights`)."""
    from zoo.weights.local import load_weights as load

    return load(model, path, rebuild=rebuild, allow_head_mismatch=allow_head_mismatch)


def check_weights_path(name, path):
    from zoo.weights.local import check_weights_path as check

    check(name, path)
