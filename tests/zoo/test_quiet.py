"""Quiet by default: TensorFlow's start-up lines, C++ logs and the LiteRT converter's output stay
off the console; DLZOO_VERBOSE=1 (a command's --verbose) brings them back."""

import os
import subprocess
import sys

WORK = """
import numpy as np
import zoo, keras, tensorflow as tf
tf.config.list_physical_devices()
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
calibration = np.random.default_rng(0).normal(size=(100, 4)).astype("float32")
path = zoo.export.litert(model, {path!r}, quantize="int8", representative_data=calibration)
print(zoo.inference.LiteRTModel(path).predict(np.ones((2, 4), "float32")).shape)
"""


def _run(tmp_path, **env):
    environ = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "DLZOO_VERBOSE")}
    code = WORK.format(path=str(tmp_path / "m.tflite"))
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          env={**environ, **env})


def test_import_ops_and_litert_export_write_nothing_to_stderr(tmp_path):
    done = _run(tmp_path)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("(2, 3)")
    assert done.stderr == ""


def test_verbose_brings_the_logs_back():
    from zoo.core import quiet

    assert not quiet.verbose()
    code = "import zoo, tensorflow as tf; import os; print(os.environ.get('TF_CPP_MIN_LOG_LEVEL', 'unset'))"
    environ = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "DLZOO_VERBOSE")}
    quiet_run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=environ)
    loud = subprocess.run([sys.executable, "-c", "import os; os.environ['DLZOO_VERBOSE'] = '1'\n" + code],
                          capture_output=True, text=True, timeout=120, env=environ)
    assert quiet_run.stdout.strip() == "3" and quiet_run.stderr == ""
    assert loud.returncode == 0 and loud.stdout.strip() == "unset"  # TensorFlow's own default: every log


def test_silenced_restores_stderr(capfd):
    from zoo.core.quiet import silenced

    with silenced():
        os.write(2, b"hidden\n")
    os.write(2, b"shown\n")
    assert capfd.readouterr().err == "shown\n"
