"""zoo.core: atomic writes, argument checks, naming; the package map (every part reachable as zoo.NAME)."""

import importlib
import os
import stat
import subprocess
import sys

import pytest

from zoo.core import checks, io, naming


def test_atomic_write_replaces_whole_files_and_keeps_the_old_one_on_failure(tmp_path):
    path = tmp_path / "sub" / "a.json"
    io.atomic_json(path, {"a": 1})
    assert path.read_text() == '{\n  "a": 1\n}\n'
    with pytest.raises(RuntimeError), io.atomic_path(path) as tmp:
        with open(tmp, "w") as f:
            f.write("half")
        raise RuntimeError("killed mid-write")
    assert path.read_text() == '{\n  "a": 1\n}\n'
    assert os.listdir(path.parent) == ["a.json"]  # no temporary file left behind
    io.atomic_write(path, b"new")
    assert path.read_bytes() == b"new"
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o666 & ~mask


def test_atomic_path_keeps_the_suffix_writers_check(tmp_path):
    with io.atomic_path(tmp_path / "m.weights.h5", suffix=".weights.h5") as tmp:
        assert tmp.endswith(".weights.h5") and os.path.dirname(tmp) == str(tmp_path)
        open(tmp, "wb").close()
    assert os.listdir(tmp_path) == ["m.weights.h5"]


def test_atomic_dir_replaces_a_folder_or_keeps_it(tmp_path):
    target = tmp_path / "model"
    with io.atomic_dir(target) as tmp:
        open(os.path.join(tmp, "v1"), "w").close()
    with pytest.raises(ValueError), io.atomic_dir(target) as tmp:
        open(os.path.join(tmp, "v2"), "w").close()
        raise ValueError("export failed")
    assert os.listdir(target) == ["v1"]
    with io.atomic_dir(target) as tmp:
        open(os.path.join(tmp, "v3"), "w").close()
    assert os.listdir(target) == ["v3"] and os.listdir(tmp_path) == ["model"]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: checks.check_int("epochs", 0, minimum=1), "invalid epochs=0; expected an integer >= 1"),
        (lambda: checks.check_int("n", True), "invalid n=True; expected an integer"),
        (lambda: checks.check_int("k", 9, 1, 5, owner="kmeans"), "kmeans: invalid k=9; expected an integer in [1, 5]"),
        (lambda: checks.check_int("steps", -1, 1, allow_none=True), "invalid steps=-1; expected an integer >= 1 or None"),
        (lambda: checks.check_number("gamma", 0, 0, 1, low_open=True), "invalid gamma=0; expected a number in (0, 1]"),
        (lambda: checks.check_number("lr", float("nan"), 0), "invalid lr=nan; expected a number >= 0"),
        (lambda: checks.check_choice("mode", "x", ("a", "b")), "invalid mode='x'; expected one of 'a', 'b'"),
        (lambda: checks.check_choice("mode", [], ("a",)), "invalid mode=[]; expected one of 'a'"),
        (lambda: checks.check_bool("flag", 1), "invalid flag=1; expected True or False"),
    ],
)
def test_checks_name_the_argument_the_value_and_what_is_accepted(call, message):
    with pytest.raises(ValueError) as err:
        call()
    assert str(err.value) == message


def test_checks_return_good_values():
    assert checks.check_int("n", 3, minimum=1) == 3
    assert checks.check_number("x", 0.5, 0, 1) == 0.5
    assert checks.check_choice("m", "a", "ab") == "a"


def test_block_regex_validates_patterns():
    assert naming.block_regex() is naming.BLOCK_RE
    assert naming.block_regex(r"^(stage\d)_").pattern == r"^(stage\d)_"
    with pytest.raises(ValueError, match="expected a regex whose first group names the block"):
        naming.block_regex(r"^stage\d_")
    with pytest.raises(ValueError, match="invalid block_pattern='\\('"):
        naming.block_regex("(")


@pytest.mark.parametrize(
    "public, module",
    [
        ("zoo.train", "zoo.training"),
        ("zoo.distribute", "zoo.training.distribute"),
        ("zoo.callbacks", "zoo.training.callbacks"),
        ("zoo.optimizers", "zoo.training.optimizers"),
        ("zoo.transfer", "zoo.training.transfer"),
        ("zoo.tune", "zoo.training.tune"),
        ("zoo.unsupervised", "zoo.training.unsupervised"),
        ("zoo.export", "zoo.deploy.export"),
        ("zoo.quantize", "zoo.deploy.quantize"),
        ("zoo.inference", "zoo.deploy.inference"),
        ("zoo.serve", "zoo.deploy.serve"),
        ("zoo.diagnostics", "zoo.insight.diagnostics"),
        ("zoo.analysis", "zoo.insight.receptive_field"),
        ("zoo.visualize", "zoo.insight.visualize"),
        ("zoo.preprocessing", "zoo.data.preprocessing"),
    ],
)
def test_public_module_names_are_the_modules_themselves(public, module):
    import zoo

    assert importlib.import_module(public) is importlib.import_module(module)
    assert getattr(zoo, public.split(".")[1]) is importlib.import_module(module)


def test_every_part_is_reachable_after_import_zoo():
    code = (
        "import zoo\n"
        "assert zoo.layers.MinPooling2D and zoo.unsupervised.cluster and zoo.diagnostics.plot_history\n"
        "assert zoo.train.fit and zoo.export.litert and zoo.inference.LiteRTModel and zoo.receptive_field\n"
        "assert callable(zoo.tune) and callable(zoo.preprocessing)\n"
        "for name in ('core', 'registry', 'models', 'weights', 'data', 'training', 'deploy', 'insight', 'reproduce'):\n"
        "    getattr(zoo, name)\n"
        "from zoo.train import compile_from_recipe, train_recipe\n"
        "from zoo.quantize import prune, qat, ptq\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]


def test_unknown_attribute_is_an_attribute_error():
    import zoo

    with pytest.raises(AttributeError, match="module 'zoo' has no attribute 'trian'"):
        zoo.trian  # noqa: B018
