"""``python -m zoo train`` / ``evaluate`` end to end in subprocesses: the run folder, a config file under the
command line, a killed run that resumes to an uninterrupted run's weights, and one-line errors (exit 2)."""

import contextlib
import csv
import io
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import yaml

from zoo import cli

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PNG = b"\x89PNG"
CONFIG = dict(data="digits", epochs=2, lr=0.5, schedule="step", optimizer="adamw", weight_decay=1e-4,
              label_smoothing=0.1, seed=1, **{"warmup-epochs": 1})
FLAGS = ["--lr", "0.003", "--epochs", "3", "--batch-size", "32"]  # over the file's lr and epochs
RUN_FILES = {"config.yaml", "history.csv", "learning_curves.png", "learning_rate.png", "mlp.keras", "test.json"}


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([ROOT, *filter(None, [env.get("PYTHONPATH")])])
    return env


def _zoo(*argv):
    return subprocess.run([sys.executable, "-m", "zoo", *map(str, argv)], capture_output=True, text=True, cwd=ROOT,
                          env=_env(), timeout=300)


def _train_args(config, where):
    return ["train", "mlp", "--config", config, *FLAGS, "--checkpoint-dir", where / "ckpt", "--out", where / "run"]


def _epochs(path):
    with open(path, newline="") as f:
        return [int(row["epoch"]) for row in csv.DictReader(f)]


def _weights(path):
    from zoo.models import load_model

    return load_model(str(path)).get_weights()


@pytest.fixture(scope="module")
def config(tmp_path_factory):
    path = tmp_path_factory.mktemp("config") / "mlp.yaml"
    path.write_text(yaml.safe_dump(CONFIG))
    return path


@pytest.fixture(scope="module")
def reference(config, tmp_path_factory):
    """One uninterrupted run with a config file, flags over it, checkpoints and a log dir."""
    where = tmp_path_factory.mktemp("reference")
    done = _zoo(*_train_args(config, where), "--log-dir", where / "logs")
    assert done.returncode == 0, done.stderr
    return where, done


def test_a_run_writes_its_folder_and_logs(reference):
    where, done = reference
    run = where / "run"
    assert RUN_FILES <= {p.name for p in run.iterdir()}
    assert all((run / name).read_bytes()[:4] == PNG for name in ("learning_curves.png", "learning_rate.png"))
    assert _epochs(run / "history.csv") == [0, 1, 2] == _epochs(where / "logs" / "history.csv")
    for part in ("train", "validation"):  # TensorBoard event files
        assert any(p.name.startswith("events.out.tfevents") for p in (where / "logs" / part).iterdir())
    test = json.loads((run / "test.json").read_text())
    assert test["model"] == "mlp" and test["data"] == "digits" and set(test["figures"]) == {"loss", "accuracy"}
    line = f"test loss={test['figures']['loss']:.4f}, test accuracy={test['figures']['accuracy']:.4f}"
    assert f"mlp on digits: {line}" in done.stdout and f"run folder {run}" in done.stdout
    assert "oneDNN" not in done.stderr and "WARNING" not in done.stderr  # quiet: only the progress bar


def test_the_command_line_wins_over_the_config_file_and_both_are_applied(reference):
    import keras

    where, _ = reference
    resolved = yaml.safe_load((where / "run" / "config.yaml").read_text())
    assert resolved == dict(model="mlp", data="digits", weights=None, image_size=None, epochs=3, batch_size=32,
                            lr=0.003, optimizer="adamw", schedule="step", warmup_epochs=1, weight_decay=1e-4,
                            label_smoothing=0.1, augment=None, mixed_precision=None, jit=None, strategy=None,
                            checkpoint_dir=str(where / "ckpt"), log_dir=str(where / "logs"), seed=1, save=None)
    from zoo.models import load_model

    model = load_model(str(where / "run" / "mlp.keras"))
    opt = model.optimizer
    assert isinstance(opt, keras.optimizers.AdamW) and opt.weight_decay == pytest.approx(1e-4)
    rate = opt._learning_rate  # its schedule: 37 steps per epoch (1,167 examples), warmup 1 epoch, then a tenth
    assert rate.get_config() == dict(learning_rate=0.003, schedule="step", total_steps=111, warmup_steps=37)
    assert [float(rate(s)) for s in (0, 36, 37, 61, 62, 86, 87, 110)] == pytest.approx(  # after each third of 74
        [0.003 / 37, 0.003, 0.003, 0.003, 0.0003, 0.0003, 0.00003, 0.00003])
    assert model.loss.label_smoothing == pytest.approx(0.1)


def test_a_killed_run_resumes_to_the_weights_of_an_uninterrupted_one(config, reference, tmp_path):
    where, _ = reference
    argv = [sys.executable, "-m", "zoo", *map(str, _train_args(config, tmp_path))]
    proc = subprocess.Popen(argv, cwd=ROOT, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    index, deadline = tmp_path / "ckpt" / "checkpoint", time.monotonic() + 240
    while not index.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)  # right after the first epoch's checkpoint
    proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    assert 'model_checkpoint_path: "ckpt-3"' not in index.read_text()  # stopped before the end
    assert not (tmp_path / "run" / "mlp.keras").exists()
    again = _zoo(*_train_args(config, tmp_path))
    assert again.returncode == 0, again.stderr
    assert "resuming from " in again.stdout and " of 3 epochs done)" in again.stdout
    assert _epochs(tmp_path / "run" / "history.csv") == [0, 1, 2]  # each epoch once
    ours, reference_weights = _weights(tmp_path / "run" / "mlp.keras"), _weights(where / "run" / "mlp.keras")
    assert len(ours) == len(reference_weights)
    assert all(np.array_equal(a, b) for a, b in zip(ours, reference_weights))


def test_evaluate_prints_and_writes_the_test_figures(reference, tmp_path):
    where, _ = reference
    out = tmp_path / "figures.json"
    done = _zoo("evaluate", where / "run" / "mlp.keras", "--data", "digits", "--seed", 1, "--out", out)
    assert done.returncode == 0, done.stderr
    figures = json.loads(out.read_text())
    trained = json.loads((where / "run" / "test.json").read_text())["figures"]
    assert figures["examples"] == 360 and figures["split"] == "test"
    assert figures["figures"] == pytest.approx(trained, rel=1e-5)
    assert (f"mlp.keras on digits (test, 360 examples): accuracy={figures['figures']['accuracy']:.4f}, "
            f"loss={figures['figures']['loss']:.4f}") in done.stdout


def test_a_bad_argument_in_a_subprocess_is_one_line_and_exit_2():
    done = _zoo("train", "mlp", "--schedule", "foo")
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "python -m zoo train: error: argument --schedule: invalid choice: 'foo' (choose from 'constant', 'cosine', "
        "'step')"]


def _main(argv):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), pytest.raises(SystemExit) as exit_:
        cli.main([str(a) for a in argv])
    return exit_.value.code, out.getvalue(), err.getvalue()


@pytest.mark.parametrize("argv, config, message", [
    (["--lr", "-1"], None, "argument --lr: invalid value '-1'; expected a number > 0"),
    (["--mixed-precision", "int8"], None, "argument --mixed-precision: invalid choice: 'int8' (choose from "
                                          "'bfloat16', 'float16')"),
    (["--epochs", "0"], None, "argument --epochs: invalid value '0'; expected an integer >= 1"),
    (["--label-smoothing", "1"], None, "argument --label-smoothing: invalid value '1'; expected a number >= 0 "
                                       "and < 1"),
    (["--augment", "spin=3"], None, "argument --augment: invalid value 'spin=3'; expected 'default', 'none' or "
                                    "comma-separated translate=F, rotate=F, zoom=F, flip"),
    ([], {"lrr": 0.1}, "unknown key 'lrr' (did you mean lr?); expected any of augment, batch_size, checkpoint_dir, data, epochs, "
                       "image_size, jit, label_smoothing, log_dir, lr, mixed_precision, model, optimizer, out, save, "
                       "schedule, seed, strategy, warmup_epochs, weight_decay, weights"),
    ([], {"lr": -3}, "argument --lr: invalid value '-3'; expected a number > 0"),
    ([], {"jit": "yes"}, "invalid jit='yes'; expected true or false"),
])
def test_bad_arguments_exit_2_with_one_line_naming_them(argv, config, message, tmp_path):
    if config is not None:
        path = tmp_path / "c.json"
        path.write_text(json.dumps(config))
        argv = ["--config", path, *argv]
        message = f"--config {path}: {message}"
    code, out, err = _main(["train", "mlp", *argv])
    assert code == 2 and out == ""
    assert err.splitlines() == [f"python -m zoo train: error: {message}"]


def test_help_shows_the_defaults():
    code, out, _ = _main(["train", "--help"])
    assert code == 0
    flat = " ".join(out.split())
    assert "seeds the splits, shuffles and weights (default: 0)" in flat
    assert "--lr LR peak learning rate (default: the recipe's)" in flat
    code, out, _ = _main(["evaluate", "--help"])
    assert "--split {train,val,test} the split to test on (default: test)" in " ".join(out.split())
    code, out, _ = _main(["serve", "--help"])  # every command, also options without a help text
    assert "--port PORT (default: 8501)" in " ".join(out.split())


def test_a_library_error_is_one_line_exit_2_before_any_training(capsys):
    assert cli.main(["train", "mlp", "--image-size", "16"]) == 2
    err = capsys.readouterr().err
    assert err.splitlines() == ["error: train_recipe: invalid image_size=16; expected None for 'mlp', which trains "
                                "on flat vectors (its recipe loads flat=True)"]
