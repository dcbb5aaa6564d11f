"""zoo.distribute and zoo.train.fit under several devices and processes.

Logical devices must be set before TensorFlow initialises and a
MultiWorkerMirroredStrategy must be created first thing in a process, so the
multi-device and multi-worker runs happen in subprocesses
(``tests/zoo/_dist_worker.py``), each bounded by a timeout and killed on
failure. The one-device reference is computed in this process.
"""

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest

from zoo import distribute as zdist

ROOT = Path(__file__).resolve().parents[2]
WORKER = ROOT / "tests" / "zoo" / "_dist_worker.py"
TOL = 1e-5  # one device vs 2 replicas / 2 workers: only float summation order differs (measured ~2e-7)


def _load(path, name):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


launcher = _load(ROOT / "scripts" / "launch_local_workers.py", "launch_local_workers")
worker = _load(WORKER, "_dist_worker")


def _env():
    return {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2", "CUDA_VISIBLE_DEVICES": ""}


def _weights(path):
    with np.load(path) as f:
        return [f[k] for k in sorted(f.files, key=lambda s: int(s.split("_")[1]))]


def _max_diff(a, b):
    assert len(a) == len(b)
    return max(float(np.abs(x - y).max()) for x, y in zip(a, b))


@pytest.fixture(scope="module")
def reference():
    """The uninterrupted one-device run, in this process."""
    weights, history = worker.train()
    return weights, history.history


# ---------------------------------------------------------------------------
# TF_CONFIG and strategy resolution (no devices needed)
# ---------------------------------------------------------------------------

CLUSTER = {"worker": ["localhost:1", "localhost:2"]}


@pytest.mark.parametrize(
    "value, message",
    [
        ("{cluster: nope", "not JSON"),
        ("[1, 2]", "expected a JSON object"),
        (json.dumps({"cluster": {}, "task": {"type": "worker", "index": 0}}), "invalid TF_CONFIG cluster"),
        (json.dumps({"cluster": {"worker": ["localhost"]}, "task": {"type": "worker"}}), "host:port"),
        (json.dumps({"cluster": CLUSTER, "task": {"type": "ps", "index": 0}}), "task type='ps'"),
        (json.dumps({"cluster": CLUSTER, "task": {"type": "worker", "index": 2}}), "out of range for 2 'worker'"),
        (json.dumps({"cluster": CLUSTER, "task": {"type": "worker", "index": -1}}), "expected an integer in 0..1"),
    ],
)
def test_bad_tf_config_is_a_clear_error(value, message):
    with pytest.raises(ValueError, match="TF_CONFIG") as err:
        zdist.parse_tf_config(value)
    assert message in str(err.value)


def test_tf_config_roles(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", launcher.tf_config([5000, 5001, 5002], 2))
    assert zdist.num_workers() == 3 and zdist.worker_index() == 2 and not zdist.is_chief()
    cfg = {"cluster": {"chief": ["h:1"], "worker": ["h:2"]}, "task": {"type": "worker", "index": 0}}
    assert zdist.num_workers(cfg) == 2 and zdist.worker_index(cfg) == 1
    monkeypatch.delenv("TF_CONFIG")
    assert zdist.parse_tf_config() is None and zdist.num_workers() == 1 and zdist.is_chief()
    with pytest.raises(ValueError, match="invalid index=3"):
        launcher.tf_config([1, 2], 3)


def test_strategy_resolution(monkeypatch):
    import tensorflow as tf

    monkeypatch.delenv("TF_CONFIG", raising=False)
    for var in ("TPU_NAME", "COLAB_TPU_ADDR", "TPU_WORKER_ID"):
        monkeypatch.delenv(var, raising=False)
    auto = zdist.strategy("auto")
    assert isinstance(auto, tf.distribute.OneDeviceStrategy)  # no TPU, no TF_CONFIG, no GPUs here
    assert zdist.strategy(auto) is auto
    assert zdist.strategy(None) is tf.distribute.get_strategy()
    assert zdist.describe(auto) == "OneDeviceStrategy, 1 replica"
    with pytest.raises(ValueError, match=r"invalid strategy='mirror'; expected one of \['auto'"):
        zdist.strategy("mirror")
    with pytest.raises(ValueError, match="strategy='multi_worker' needs the TF_CONFIG"):
        zdist.strategy("multi_worker")
    monkeypatch.setenv("TF_CONFIG", "not json")
    with pytest.raises(ValueError, match="not JSON"):
        zdist.strategy("auto")  # a broken TF_CONFIG is reported, not ignored
    with pytest.raises(ValueError, match="invalid communication='mpi'"):
        zdist.strategy("multi_worker", communication="mpi")


def test_batch_not_divisible_by_replicas():
    four = types.SimpleNamespace(num_replicas_in_sync=4)
    zdist.check_global_batch(64, four)
    zdist.check_global_batch(7, types.SimpleNamespace(num_replicas_in_sync=1))
    with pytest.raises(ValueError, match=r"invalid batch_size=10 for 4 replicas .* multiple of 4 \(e.g. 8 or 12\)"):
        zdist.check_global_batch(10, four)


def test_split_cpu_validates_n():
    with pytest.raises(ValueError, match="invalid n=0"):
        zdist.split_cpu(0)


# ---------------------------------------------------------------------------
# Several devices and processes (subprocesses)
# ---------------------------------------------------------------------------


def test_mirrored_two_cpus_matches_one_device_and_resumes(tmp_path, reference):
    proc = subprocess.run(
        [sys.executable, str(WORKER), "mirrored", str(tmp_path)],
        env=_env(), capture_output=True, text=True, timeout=240,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    mirrored = _weights(tmp_path / "mirrored.npz")
    # same global batch of 32 (2 x 16 on the mirrored replicas): same weights up to summation order
    assert _max_diff(mirrored, reference[0]) < TOL
    hist = json.loads((tmp_path / "mirrored.json").read_text())
    np.testing.assert_allclose(hist["loss"], reference[1]["loss"], rtol=1e-5)
    # interrupted mid-epoch 1 after the step-20 checkpoint, then resumed from it: identical weights
    assert _max_diff(mirrored, _weights(tmp_path / "mirrored_resumed.npz")) == 0.0
    resumed = json.loads((tmp_path / "mirrored_resumed.json").read_text())
    assert len(resumed["loss"]) == 2  # epochs 1 and 2 only: it resumed, it did not start again
    assert _max_diff(mirrored, _weights(tmp_path / "mirrored_xla.npz")) < TOL
    float16 = json.loads((tmp_path / "mirrored_float16.json").read_text())["loss"]
    assert all(np.isfinite(float16)) and float16[-1] < float16[0] - 0.5
    assert (tmp_path / "batch_error.txt").read_text().startswith(
        "invalid batch_size=33 for 2 replicas (MirroredStrategy, 2 replicas): the global batch is split evenly"
    )


def test_two_workers_train_through_the_cli(tmp_path):
    """``launch_local_workers.py 2 -- python -m zoo train NAME --strategy multi_worker``."""
    model_path = tmp_path / "model.keras"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "launch_local_workers.py"), "2", "--timeout", "240", "--",
         sys.executable, "-m", "zoo", "train", "logistic_regression", "--strategy", "multi_worker",
         "--epochs", "2", "--save", str(model_path)],
        env=_env(), capture_output=True, text=True, timeout=300, cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    lines = {}
    for line in proc.stdout.splitlines():
        if "test accuracy=" in line:
            worker_tag, text = line.split("] ", 1)
            lines[worker_tag] = text.split(" (")[0]
    assert len(lines) == 2, proc.stdout[-3000:]
    first, second = lines.values()
    assert first == second  # both workers hold the same weights: same test figures
    assert "[CollectiveAllReduceStrategy, 2 replicas]" in first
    assert float(first.split("test accuracy=")[1].split(",")[0]) > 0.5
    import keras

    assert keras.saving.load_model(model_path).output_shape == (None, 10)  # written by the chief only


def _progress(path):
    try:
        return [int(v) for v in path.read_text().split()]
    except (FileNotFoundError, ValueError):
        return []


def test_sigkill_a_worker_mid_epoch_and_resume(tmp_path, reference):
    ckpt = tmp_path / "ckpt"
    cmd = [sys.executable, str(WORKER), "worker", str(tmp_path), "--checkpoint", str(ckpt)]
    procs = launcher.start_workers(2, cmd + ["--slow", "0.1"], env=_env(),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 180
        while max(_progress(tmp_path / "progress0.txt"), default=0) < 22:  # checkpoint 5 is at step 20
            assert time.monotonic() < deadline, "workers made no progress"
            assert all(p.poll() is None for p in procs), procs[0].stderr.read().decode()[-3000:]
            time.sleep(0.05)
        os.kill(procs[1].pid, signal.SIGKILL)  # a worker dies mid-epoch 1 ...
    finally:
        launcher.stop_workers(procs)  # ... and, as TF's fault tolerance model requires, all are restarted
    killed_at = max(_progress(tmp_path / "progress0.txt"))
    assert killed_at < 32 and not (tmp_path / "worker0.npz").exists()
    assert (ckpt / "checkpoint").exists()

    procs = launcher.start_workers(2, cmd, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    codes = launcher.wait_workers(procs, timeout=240)
    assert codes == [0, 0], procs[0].stderr.read().decode()[-3000:]
    steps = _progress(tmp_path / "progress1.txt")
    restart = [s for a, s in zip(steps, steps[1:]) if s <= a]  # where the step counter went back
    # resumed after the last checkpoint (every 4 steps), in the middle of epoch 1 (steps 17..32)
    assert len(restart) == 1 and 16 < restart[0] <= killed_at + 1 and (restart[0] - 1) % 4 == 0, steps
    w0, w1 = _weights(tmp_path / "worker0.npz"), _weights(tmp_path / "worker1.npz")
    assert _max_diff(w0, w1) == 0.0  # the two workers agree exactly
    assert _max_diff(w0, reference[0]) < 1e-5  # and equal the uninterrupted run
    history = json.loads((tmp_path / "worker0.json").read_text())
    assert sorted(history) == ["accuracy", "loss", "val_accuracy", "val_loss"] and len(history["loss"]) == 2
    np.testing.assert_allclose(history["loss"][-1], reference[1]["loss"][-1], rtol=1e-5)
    assert not (ckpt / ".workers").exists()  # the non-chief's temporary checkpoints are gone


def test_launcher_stops_the_others_when_a_worker_fails_or_times_out(capsys):
    py = sys.executable
    assert launcher.main(["2"]) == 2  # no '--'
    sleeper = "import time; time.sleep(60)"
    start = time.monotonic()
    # worker 1 fails at once; worker 0 would wait forever (as in a collective): it is stopped
    failing = "import json, os, sys, time; i = json.loads(os.environ['TF_CONFIG'])['task']['index']; " \
              "print('index', i, flush=True); time.sleep(60) if i == 0 else sys.exit(3)"
    assert launcher.main(["2", "--", py, "-c", failing]) == 3
    out = capsys.readouterr().out
    assert "[worker 0] index 0" in out and "[worker 1] index 1" in out
    assert launcher.main(["2", "--timeout", "1", "--", py, "-c", sleeper]) == 124
    assert time.monotonic() - start < 30
