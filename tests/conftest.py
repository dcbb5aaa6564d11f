import os

# Two logical CPU devices for the tf.distribute tests; must happen before TF initialises.
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import zoo  # noqa: E402, F401  (first: TensorFlow is imported quietly, zoo/core/quiet.py)


@pytest.fixture(autouse=True)
def _seed():
    import keras

    keras.utils.set_random_seed(0)
    yield


@pytest.fixture
def rng():
    return np.random.default_rng(0)


def _gpu_visible() -> bool:
    """A GPU is there and not hidden (this file hides GPUs unless CUDA_VISIBLE_DEVICES is set)."""
    import glob
    import shutil

    if os.environ.get("CUDA_VISIBLE_DEVICES", "").strip() in ("", "-1"):
        return False
    return bool(glob.glob("/dev/nvidia[0-9]*") or shutil.which("nvidia-smi"))


def pytest_collection_modifyitems(config, items):
    """Tests marked ``gpu`` are skipped without a visible GPU (scripts/gpu_check.sh runs them on one)."""
    if _gpu_visible():
        return
    skip = pytest.mark.skip(reason="needs a GPU: run scripts/gpu_check.sh on a GPU machine")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)
