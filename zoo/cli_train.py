"""``python -m zoo train`` and ``python -m zoo evaluate``: timm-style training runs, each in a run folder.

``train MODEL`` runs the model's registered recipe (:func:`zoo.train.train_recipe`) with the
flags timm's users reach for (``--lr``, ``--optimizer``, ``--schedule``, ``--warmup-epochs``,
``--weight-decay``, ``--label-smoothing``, ``--augment``, ``--mixed-precision``, ``--jit``,
``--strategy``, ``--checkpoint-dir``, ``--log-dir``), any of them also from ``--config
FILE.yaml|json`` (the command line wins). Every run writes a folder (``--out``) holding the
resolved config, the history CSV, learning-curve PNGs, the model and its test figures;
rerunning a command with ``--checkpoint-dir`` resumes it (:func:`zoo.train.fit`'s checkpoints).
``evaluate MODEL.keras --data SOURCE`` prints and writes a saved model's test figures.

:mod:`zoo.cli` is the parser hub; this module holds these two commands, their options and
the config file. Bad arguments exit with status 2 and one line (:class:`OneLineParser`).
"""

from __future__ import annotations

import argparse
import json
import os

__all__ = ["OneLineParser", "HelpFormatter", "add_commands", "with_config", "load_config", "config_keys",
           "parse_augment", "cmd_train", "cmd_evaluate"]

#: Keys of a run's config file that are not ``train`` options' names.
_NOT_IN_CONFIG = ("help", "config", "verbose", "fn")
_PARSERS = {}  # the train parser, once the hub has built it


class OneLineParser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose errors are one line (``PROG: error: MESSAGE``) and exit status 2."""

    context = ""  # set while the values of a --config file are parsed, to say where they came from

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {OneLineParser.context}{message}\n")


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """``--help`` shows each option's default, except where there is none to show (None, False)."""

    def _get_help_string(self, action):
        text = action.help or ""
        nothing = action.default is None or action.default is False or action.default == argparse.SUPPRESS
        if "%(default)" in text or nothing or not action.option_strings:
            return text
        return text + " (default: %(default)s)"


def _number(low=None, high=None, low_open=False, high_open=False, integer=False):
    """An argparse ``type`` for a number in a range; its error names the value and what is accepted."""
    from zoo.core.checks import check_int, check_number

    def parse(text):
        try:
            value = int(text) if integer else float(text)
            if integer:
                check_int("value", value, minimum=low, maximum=high)
            else:
                check_number("value", value, low, high, low_open, high_open)
        except ValueError:
            kind = (f"an integer >= {low}" if integer else
                    "a number" + (f" {'>' if low_open else '>='} {low}" if low is not None else "")
                    + (f" and {'<' if high_open else '<='} {high}" if high is not None else ""))
            raise argparse.ArgumentTypeError(f"invalid value {text!r}; expected {kind}") from None
        return value

    return parse


def parse_augment(text):
    """``--augment`` SPEC: ``default`` (zoo.data.augmentation()'s defaults), ``none``, or
    ``translate=0.1,rotate=0.05,zoom=0.1,flip`` (``zoo.data.augmentation`` arguments)."""
    text = (text or "").strip()
    if text.lower() in ("none", "off", "false"):
        return None
    if text.lower() in ("", "default", "true", "on"):
        return {}
    out = {}
    for part in text.split(","):
        key, _, value = part.strip().partition("=")
        if key == "flip":
            if value.lower() not in ("", "true", "false"):
                raise argparse.ArgumentTypeError(f"invalid value {text!r}: flip={value!r}; expected flip, flip=true "
                                                 "or flip=false")
            out["flip"] = value.lower() != "false"
        elif key in ("translate", "rotate", "zoom"):
            try:
                out[key] = float(value)
            except ValueError:
                raise argparse.ArgumentTypeError(f"invalid value {text!r}: {key}={value!r}; expected a fraction "
                                                 "in [0, 1)") from None
        else:
            raise argparse.ArgumentTypeError(f"invalid value {text!r}; expected 'default', 'none' or comma-separated "
                                             "translate=F, rotate=F, zoom=F, flip")
    return out


def _augment_text(kwargs) -> str | None:
    """The ``--augment`` SPEC of augmentation arguments (None: no augmentation)."""
    if kwargs is None:
        return None
    if not kwargs:
        return "default"
    return ",".join(f"{k}={str(v).lower() if isinstance(v, bool) else v}" for k, v in kwargs.items())


def _train_options(p):
    from zoo.core.recipe import OPTIMIZERS, SCHEDULES
    from zoo.training.distribute import KINDS

    p.add_argument("name", nargs="?", metavar="MODEL", help="a registered model (python -m zoo list); or `model:` "
                                                            "in --config")
    p.add_argument("--config", metavar="FILE", help="a .yaml or .json file of these options (the command line wins)")
    p.add_argument("--data", help="a zoo.data.load source: digits, fonts, a folder of images, .npz, .csv, mnist, "
                                  "tfds:NAME (default: the recipe's)")
    p.add_argument("--weights", help="a pretrained tag (imagenet) or a local .weights.h5/.keras file to start from")
    p.add_argument("--image-size", type=_number(1, integer=True), help="load images at this size (default: the "
                                                                         "recipe's)")
    p.add_argument("--epochs", type=_number(1, integer=True), help="(default: the recipe's)")
    p.add_argument("--batch-size", type=_number(1, integer=True), help="the global batch (default: the recipe's)")
    p.add_argument("--lr", type=_number(0, low_open=True), help="peak learning rate (default: the recipe's)")
    p.add_argument("--optimizer", choices=sorted(OPTIMIZERS), help="(default: the recipe's)")
    p.add_argument("--schedule", choices=list(SCHEDULES), help="learning-rate schedule after warmup: cosine decays "
                   "to 0, step divides by 10 after each third (default: the recipe's)")
    p.add_argument("--warmup-epochs", type=_number(0), help="linear warmup from 0 over these epochs (default: 0)")
    p.add_argument("--weight-decay", type=_number(0), help="decoupled weight decay (default: the optimizer's)")
    p.add_argument("--label-smoothing", type=_number(0, 1, high_open=True), help="(default: 0)")
    p.add_argument("--augment", nargs="?", const="default", type=parse_augment, metavar="SPEC",
                   help="augment training images: 'default' (translate=0.1) or e.g. 'translate=0.1,rotate=0.05,"
                        "zoom=0.1,flip'; 'none' turns a config file's off (default: none)")
    p.add_argument("--mixed-precision", choices=["bfloat16", "float16"], help="float32 weights, low-precision compute "
                   "(default: float32)")
    p.add_argument("--jit", action=argparse.BooleanOptionalAction, help="XLA-compile the training step (default: "
                                                                        "Keras's choice)")
    p.add_argument("--strategy", choices=list(KINDS), help="train under this tf.distribute strategy with zoo.train.fit "
                                                           "(multi_worker reads TF_CONFIG) (default: none)")
    p.add_argument("--checkpoint-dir", metavar="DIR", help="checkpoint every epoch here; rerunning the command resumes "
                                                           "(default: no checkpoints)")
    p.add_argument("--log-dir", metavar="DIR", help="write TensorBoard event files and history.csv here "
                                                    "(default: none)")
    p.add_argument("--seed", type=_number(0, integer=True), default=0, help="seeds the splits, shuffles and weights")
    p.add_argument("--out", metavar="DIR", help="the run folder (default: runs/train_<model>_<date>_<time>)")
    p.add_argument("--save", help="also write the trained model to this .keras path")


def add_commands(command):
    """Add ``train`` and ``evaluate`` through the hub's ``command(name, **kwargs)``."""
    p = command("train", help="train a model with its reference recipe and your flags; write a run folder")
    _train_options(p)
    _PARSERS["train"] = p
    p.set_defaults(fn=cmd_train)

    p = command("evaluate", help="test figures of a saved .keras model on a zoo.data.load source")
    p.add_argument("model", help="a .keras file (python -m zoo train writes one into its run folder)")
    p.add_argument("--data", required=True, help="a zoo.data.load source, loaded at the model's input shape")
    p.add_argument("--split", choices=["train", "val", "test"], default="test", help="the split to test on")
    p.add_argument("--seed", type=_number(0, integer=True), default=0, help="the split's seed (the training run's)")
    p.add_argument("--batch-size", type=_number(1, integer=True), default=256, help="examples per forward pass")
    p.add_argument("--out", help="the figures as JSON (default: MODEL_evaluate.json beside the model)")
    p.set_defaults(fn=cmd_evaluate)


# --------------------------------------------------------------------------- config files


def config_keys(train_parser) -> list:
    """The keys a config file may hold: every ``train`` option (``batch_size`` or ``batch-size``) and ``model``."""
    return sorted({"model"} | {a.dest for a in train_parser._actions if a.dest not in (*_NOT_IN_CONFIG, "name")})


def load_config(path) -> dict:
    """A ``.yaml``/``.yml`` or ``.json`` file of options as a dict (keys with ``-`` read as ``_``)."""
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(f"config file {path!r} does not exist")
    suffix = os.path.splitext(path)[1].lower()
    if suffix not in (".yaml", ".yml", ".json"):
        raise ValueError(f"invalid --config {path!r}; expected a .yaml, .yml or .json file")
    with open(path, encoding="utf-8") as f:
        try:
            if suffix == ".json":
                data = json.load(f)
            else:
                import yaml

                data = yaml.safe_load(f)
        except Exception as err:  # noqa: BLE001 - json.JSONDecodeError, yaml.YAMLError (not a ValueError)
            raise ValueError(f"config file {path!r} does not parse: {str(err).splitlines()[0]}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"config file {path!r} holds a {type(data).__name__}; expected a mapping of option: value")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def _tokens(config, train_parser) -> list:
    """``config`` as command-line tokens (``--lr=0.1``, ``--jit``), so argparse checks them as it checks flags."""
    actions = {a.dest: a for a in train_parser._actions}
    tokens = []
    for key, value in config.items():
        if value is None or key == "model":
            continue
        action, flag = actions[key], actions[key].option_strings[0]
        if isinstance(action, argparse.BooleanOptionalAction):
            if not isinstance(value, bool):
                raise ValueError(f"invalid {key}={value!r}; expected true or false")
            tokens.append(flag if value else "--no-" + flag[2:])
        elif key == "augment":
            spec = _augment_text(value) if isinstance(value, dict) else (
                "default" if value is True else "none" if value is False else str(value))
            tokens.append(f"{flag}={spec}")
        else:
            tokens.append(f"{flag}={value}")
    return tokens


def with_config(parser, argv, args):
    """``args`` with the ``--config`` file's options under the command line's (an error exits 2, one line)."""
    train = _PARSERS["train"]
    context = f"--config {args.config}: "
    try:
        config = load_config(args.config)
        unknown, keys = sorted(set(config) - set(config_keys(train))), config_keys(train)
        if unknown:
            import difflib

            close = difflib.get_close_matches(unknown[0], keys, n=1) or [k for k in keys if k.startswith(unknown[0])]
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise ValueError(f"unknown key {unknown[0]!r}{hint}; expected any of {', '.join(keys)}")
        if config.get("model") is not None and not isinstance(config["model"], str):
            raise ValueError(f"invalid model={config['model']!r}; expected a registered model name")
        tokens = _tokens(config, train)
    except (ValueError, FileNotFoundError) as err:
        train.exit(2, f"{train.prog}: error: {context}{err}\n")
    OneLineParser.context = context
    try:
        parser.parse_args(["train", *tokens])  # the file's values alone, so that an error names the file
    finally:
        OneLineParser.context = ""
    at = argv.index("train")
    merged = parser.parse_args([*argv[:at + 1], *tokens, *argv[at + 1:]])  # later tokens win: the command line
    if merged.name is None:
        merged.name = config.get("model")
    return merged


# --------------------------------------------------------------------------- train


def _resolved_config(args, recipe) -> dict:
    """What a run ran with, as a config file that ``--config`` reads back (the run folder's config.yaml)."""
    return dict(model=args.name, data=recipe["data"], weights=args.weights,
                image_size=recipe["data_kwargs"].get("image_size"), epochs=recipe["epochs"],
                batch_size=recipe["batch_size"], lr=recipe["learning_rate"], optimizer=recipe["optimizer"],
                schedule=recipe["schedule"], warmup_epochs=recipe["warmup_epochs"] or 0,
                weight_decay=recipe["weight_decay"], label_smoothing=recipe["label_smoothing"] or 0,
                augment=_augment_text(recipe["augment"]), mixed_precision=args.mixed_precision, jit=args.jit,
                strategy=args.strategy, checkpoint_dir=args.checkpoint_dir, log_dir=args.log_dir, seed=args.seed,
                save=args.save)


def cmd_train(args):
    """``python -m zoo train``: check everything, train, then write the run folder (the chief only)."""
    from zoo.training import distribute as zdist

    if args.name is None:
        raise ValueError("no model: pass MODEL (python -m zoo list) or `model:` in --config")
    if args.save is not None and not args.save.endswith(".keras"):
        raise ValueError(f"invalid --save {args.save!r}; expected a path ending in .keras")
    if args.log_dir:
        try:
            import tensorboard  # noqa: F401 - keras.callbacks.TensorBoard writes its summaries through it
        except ImportError:
            raise ValueError("--log-dir needs the tensorboard package (pip install tensorboard==2.21.0, "
                             "in dlzoo's setup.cfg)") from None
    strategy = zdist.strategy(args.strategy) if args.strategy else None  # before TF does anything else
    import keras
    import yaml

    from zoo.core.io import atomic_write
    from zoo.training.callbacks import ProgressBar
    from zoo.training.finetune import default_out_dir
    from zoo.training.recipes import resolve_recipe, train_recipe

    options = dict(optimizer=args.optimizer, learning_rate=args.lr, schedule=args.schedule,
                   warmup_epochs=args.warmup_epochs, weight_decay=args.weight_decay,
                   label_smoothing=args.label_smoothing, image_size=args.image_size, augment=args.augment)
    recipe = resolve_recipe(args.name, args.data, args.epochs, args.batch_size, **options)  # errors before work
    out = args.out or default_out_dir(args.name, kind="train")
    chief = zdist.is_chief()  # under multi-worker training only the chief writes
    resuming, done = _latest_checkpoint(args.checkpoint_dir), 0
    if resuming:
        done = _checkpoint_epoch(resuming)
        print(f"resuming from {resuming} ({done} of {recipe['epochs']} epochs done)")
        for folder in (out, args.log_dir):  # each epoch once in the histories, however often the run was stopped
            if folder and chief:
                _keep_epochs(os.path.join(folder, "history.csv"), done)
    callbacks = [ProgressBar(desc=args.name, initial=done)]
    if chief:
        os.makedirs(out, exist_ok=True)
        atomic_write(os.path.join(out, "config.yaml"), yaml.safe_dump(_resolved_config(args, recipe), sort_keys=False))
        callbacks.append(keras.callbacks.CSVLogger(os.path.join(out, "history.csv"), append=bool(resuming)))
        if args.log_dir:
            callbacks += [keras.callbacks.TensorBoard(args.log_dir, write_graph=False),
                          keras.callbacks.CSVLogger(os.path.join(args.log_dir, "history.csv"), append=True)]
    model_args = {} if args.weights is None else {"weights": args.weights}
    result = train_recipe(args.name, data=args.data, epochs=args.epochs, batch_size=args.batch_size,
                          callbacks=callbacks, seed=args.seed, strategy=strategy, mixed_precision=args.mixed_precision,
                          jit_compile=args.jit, checkpoint_dir=args.checkpoint_dir, **options, **model_args)
    where = f" [{zdist.describe(strategy)}]" if strategy is not None else ""
    print(f"{args.name} on {result.data}{where}: "
          + ", ".join(f"test {k}={v:.4f}" for k, v in result.test.items()) + f" ({result.seconds:.1f}s)")
    if chief:
        _write_run(out, args, recipe, result)
        print(f"run folder {out}")
        if args.save:
            from zoo.deploy.export import keras_file

            print(f"saved {keras_file(result.model, args.save)}")
    return 0


def _latest_checkpoint(directory):
    if not directory or not os.path.isdir(directory):
        return None
    import tensorflow as tf

    return tf.train.latest_checkpoint(directory)


def _checkpoint_epoch(path) -> int:
    """The epochs a ``zoo.train.fit`` checkpoint has completed."""
    import tensorflow as tf

    return int(tf.train.load_variable(path, "epoch/.ATTRIBUTES/VARIABLE_VALUE"))


def _keep_epochs(path, epochs):
    """Drop the rows of epochs >= ``epochs`` from a CSVLogger file (a resumed run writes them again)."""
    import csv
    import io

    from zoo.core.io import atomic_write

    if not os.path.isfile(path):
        return
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    if not rows or "epoch" not in rows[0]:
        return
    at = rows[0].index("epoch")
    kept = [rows[0]] + [r for r in rows[1:] if r and int(r[at]) < epochs]
    text = io.StringIO()
    csv.writer(text).writerows(kept)  # the excel dialect, as keras.callbacks.CSVLogger writes
    atomic_write(path, text.getvalue())


def _write_run(out, args, recipe, result):
    """The model, its test figures and the learning-curve PNGs (config and history are written as it runs)."""
    from zoo.core.io import atomic_json
    from zoo.deploy.export import keras_file
    from zoo.insight.diagnostics import plot_history

    keras_file(result.model, os.path.join(out, f"{args.name}.keras"))
    atomic_json(os.path.join(out, "test.json"), dict(model=args.name, data=result.data, split="test", seed=args.seed,
                                                     figures=result.test, seconds=result.seconds))
    history = os.path.join(out, "history.csv")
    if os.path.isfile(history) and os.path.getsize(history):
        plot_history(history, os.path.join(out, "learning_curves.png"), title=f"{args.name} on {result.data}")
    steps = result.history.params.get("steps")
    if steps:
        _plot_learning_rate(recipe, steps, os.path.join(out, "learning_rate.png"))


def _plot_learning_rate(recipe, steps_per_epoch, path):
    """The learning rate of every step of the run (warmup and schedule), against epochs."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from zoo.core.recipe import recipe_learning_rate
    from zoo.insight.diagnostics import save_figure

    total = recipe["epochs"] * steps_per_epoch
    rate = recipe_learning_rate(recipe, total)
    step = np.arange(total)
    values = np.asarray(rate(step), dtype="float64") if callable(rate) else np.full(total, float(rate))
    fig, ax = plt.subplots(figsize=(4.5, 3.3))
    ax.plot(step / steps_per_epoch, np.broadcast_to(values, step.shape))
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate")
    ax.set_title(f"{recipe['schedule']}" + (f" after a warmup of {recipe['warmup_epochs']:g} epoch(s)"
                                            if recipe["warmup_epochs"] else ""))
    return save_figure(fig, path)


# --------------------------------------------------------------------------- evaluate


def _shape_kwargs(model) -> dict:
    """How to load data for ``model``: flat vectors for a (batch, n) input, else images at its size and channels."""
    shape = model.input_shape
    if isinstance(shape, list) or len(shape) not in (2, 4):
        raise ValueError(f"invalid model {model.name!r} with input shape {shape}; expected (batch, features) or "
                         "(batch, height, width, channels)")
    if len(shape) == 2:
        return dict(flat=True)
    return dict(image_size=shape[1], channels=shape[3])


def cmd_evaluate(args):
    """``python -m zoo evaluate``: the saved model's loss and metrics on ``--split`` of ``--data``."""
    if not os.path.isfile(args.model):
        raise FileNotFoundError(f"model file {args.model!r} does not exist; expected a .keras file")
    from zoo import data as zdata
    from zoo.core.io import atomic_json
    from zoo.models import load_model

    model = load_model(args.model)
    if getattr(model, "loss", None) is None:
        raise ValueError(f"model file {args.model!r} holds a model compiled without a loss; expected one saved "
                         "after training (python -m zoo train writes one)")
    kwargs = _shape_kwargs(model)
    if kwargs.get("flat") and args.data != "digits":
        kwargs = {}  # tables and .npz vectors load flat as they are
    splits = zdata.load(args.data, seed=args.seed, **kwargs)
    figures = model.evaluate(splits.dataset(args.split, batch_size=args.batch_size, shuffle=False), verbose=0,
                             return_dict=True)
    figures = {k: float(v) for k, v in figures.items()}
    examples = int(len(splits.labels(args.split)))
    print(f"{os.path.basename(args.model)} on {args.data} ({args.split}, {examples} examples): "
          + ", ".join(f"{k}={v:.4f}" for k, v in figures.items()))
    out = args.out or os.path.splitext(args.model)[0] + "_evaluate.json"
    atomic_json(out, dict(model=args.model, data=args.data, split=args.split, seed=args.seed, examples=examples,
                          figures=figures))
    print(f"wrote {out}")
    return 0

