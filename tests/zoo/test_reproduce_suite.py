"""The reproduce suite's contract: the same figures alone or after anything, in any order; an exit
status that means something; generated tables; a README that lists exactly the quick entries."""

import json
import pathlib
import re

import pytest

from zoo import cli
from zoo.reproduce import Result, list_entries, run_suite
from zoo.reproduce.report import README_MARKERS, update_readme, write_docs

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _figures(folder):
    """What a run computed, without its timings: value, per-seed values and the learning curves."""
    payload = json.loads((folder / "results.json").read_text())
    return {r["name"]: (r["value"], r["values"], r["error"], r["extra"].get("history")) for r in payload["results"]}


def _disturb_global_state():
    """What earlier work leaves behind in a process: drawn random numbers, layers, a dtype policy."""
    import keras
    import numpy as np
    import tensorflow as tf

    np.random.rand(7)
    tf.random.uniform((3,))
    keras.layers.Dense(5)(np.ones((1, 2), "float32"))
    keras.config.set_dtype_policy("mixed_bfloat16")


def test_entries_give_identical_figures_alone_and_in_another_order(tmp_path):
    run_suite(only="lstm", out_dir=str(tmp_path / "a"), echo=lambda _: None)
    _disturb_global_state()
    run_suite(only="perceptron", out_dir=str(tmp_path / "b"), echo=lambda _: None)
    _disturb_global_state()
    run_suite(only="perceptron,lstm", out_dir=str(tmp_path / "c"), echo=lambda _: None)
    import keras

    assert keras.config.dtype_policy().name == "mixed_bfloat16"  # the caller's policy is given back
    keras.config.set_dtype_policy("float32")
    together = _figures(tmp_path / "c")
    assert list(together) == ["perceptron", "lstm"]  # the order the patterns give
    assert together["lstm"] == _figures(tmp_path / "a")["lstm"]
    assert together["perceptron"] == _figures(tmp_path / "b")["perceptron"]
    assert together["lstm"][0] > 0.5 and together["lstm"][2] is None  # it trained, without error


def test_only_patterns_keep_their_order_and_are_checked():
    names = [e.name for e in list_entries("quick", "perceptron,lstm,perc*")]
    assert names == ["perceptron", "lstm"]
    with pytest.raises(TypeError, match=r"invalid only=42; expected a string of glob patterns"):
        list_entries("quick", 42)
    with pytest.raises(ValueError, match=r"invalid suite='fast'; expected one of 'quick', 'full'"):
        list_entries("fast")


def test_recipe_entries_run_on_three_seeds_in_the_full_suite():
    quick = {e.name: e for e in list_entries("quick")}
    assert quick["googlenet"].seeded and quick["lenet5"].seeded and not quick["dqn_cartpole"].seeded
    from zoo.reproduce import SEEDS

    assert SEEDS == {"quick": (0,), "full": (0, 1, 2)}


def _result(name, values, reference=0.9, mode="max"):
    worst = (min if mode == "max" else max)(values.values())
    return Result(name, "digits", "accuracy", sum(values.values()) / len(values), reference, mode, 1.5,
                  worst >= reference if mode == "max" else worst <= reference, values=values)


def test_a_seeded_result_passes_only_if_its_worst_seed_does():
    r = _result("m", {0: 0.95, 1: 0.93, 2: 0.89})
    assert r.worst == 0.89 and r.status == "FAIL" and r.std == pytest.approx(0.0249444, abs=1e-6)
    assert _result("n", {0: 0.2, 1: 0.4}, reference=0.5, mode="min").worst == 0.4


def test_exit_status_is_nonzero_when_an_entry_does_not_pass(monkeypatch, tmp_path, capsys):
    import zoo.reproduce

    failing = [_result("m", {0: 0.5})]
    monkeypatch.setattr(zoo.reproduce, "run_suite", lambda *a, **k: failing)
    assert cli.main(["reproduce", "--out", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "| m " in out and "0 passed, 1 not passing: m" in out  # the table is printed first


def test_generated_tables_and_readme_block(tmp_path):
    results = [_result("m", {0: 0.95, 1: 0.93, 2: 0.91}), _result("n", {0: 0.5})]
    env = {"date": "2026-12-01T10:00:00", "commit": "abc1234", "machine": "x86_64, 2 CPU cores",
           "devices": ["CPU"], "tensorflow": "2.21.0", "keras": "3.15.1"}
    text = write_docs(results, str(tmp_path / "docs"), "full", env, 754.0)
    assert "at commit abc1234, x86_64, 2 CPU cores (no GPU)" in text and "2 entries in 12 min 34 s" in text
    assert "| `m` | digits | accuracy, 3 seeds | 0.93 ± 0.01633 (worst 0.91) | ≥ 0.9 | pass | 1.5 |" in text
    assert "- **`n`**: accuracy=0.5, reference ≥ 0.9" in text
    record = json.loads((tmp_path / "docs" / "full.json").read_text())
    assert record["results"]["m"]["seconds"] == 1.5 and record["results"]["n"]["status"] == "FAIL"
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{README_MARKERS[0]}\nold\n{README_MARKERS[1]}\nrest\n")
    update_readme(str(readme), results, "full", env, 754.0, "docs/full.md")
    new = readme.read_text()
    assert new.startswith("intro\n<!-- results:start -->\n") and new.endswith("<!-- results:end -->\nrest\n")
    assert "old" not in new and "[docs/full.md](docs/full.md)" in new
    readme.write_text("no markers\n")
    with pytest.raises(ValueError, match="expected a file with the markers"):
        update_readme(str(readme), results, "full", env, 754.0, "docs/full.md")
    assert readme.read_text() == "no markers\n"  # a failed update leaves the file as it was


def test_readme_results_table_lists_exactly_the_quick_entries():
    text = (ROOT / "README.md").read_text()
    start, end = (re.escape(m) for m in README_MARKERS)
    block = re.search(start + "(.*?)" + end, text, re.S).group(1)
    rows = re.findall(r"^\| `([^`]+)` \|(?:(?:[^|\\]|\\.)*\|){3} ([≥≤]) ([^ |]+) \|", block, re.M)  # \| inside a cell
    listed = {name: (sign, float(value)) for name, sign, value in rows}
    expected = {e.name: ("≥" if e.mode == "max" else "≤", e.reference) for e in list_entries("quick")}
    assert listed.keys() == expected.keys(), "run: make run (it rewrites the README's results block)"
    for name, (sign, value) in listed.items():
        assert sign == expected[name][0] and value == pytest.approx(expected[name][1], rel=1e-3), name
