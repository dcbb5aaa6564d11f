"""The agents benchmark run in pieces: timed seeds in one process, the rest in another (``--merge``).

The training is replaced by stand-ins that return fixed figures, so the bookkeeping (which seeds ran
SB3, which count for the time ratio, the cache, the joined record) is what is tested.
"""

import argparse
import json

import pytest

from agents import benchmark

pytest.importorskip("stable_baselines3")


class Config:
    """What ``sb3_settings_key`` hashes."""

    learning_rate = 1e-3


@pytest.fixture
def fake_training(monkeypatch):
    """``run_ours``: 1 s, final = seed; ``run_sb3``: 4 s, final = 10 * seed; records SB3's seeds."""
    sb3_seeds = []

    def run_ours(algo, env_id, steps, seed):
        return 1.0, float(seed), float(seed) + 0.5, Config()

    def run_sb3(algo, env_id, steps, seed, config):
        sb3_seeds.append(seed)
        return 4.0, 10.0 * seed, 10.0 * seed + 0.5

    monkeypatch.setattr(benchmark, "run_ours", run_ours)
    monkeypatch.setattr(benchmark, "run_sb3", run_sb3)
    return sb3_seeds


def bench(out, *argv):
    parser = argparse.ArgumentParser()
    benchmark.add_arguments(parser)

    def error(message):
        raise SystemExit(message)

    benchmark.run(parser.parse_args(["--only", "PPO/CartPole-v1", "--out", str(out), *argv]), error)
    return json.loads((out / "PPO_CartPole-v1.json").read_text())


def test_untimed_pieces_join_the_timed_one(tmp_path, fake_training):
    first = bench(tmp_path, "--seeds", "0,1", "--reuse-sb3")
    assert fake_training == [0, 1] and first["time_ratio"] == 0.25 and first["timed_seeds"] == 2
    key = next(iter(json.loads((tmp_path / "sb3_cache.json").read_text()))).rsplit("/", 1)[0]
    cache = json.loads((tmp_path / "sb3_cache.json").read_text())
    cache[f"{key}/2"] = dict(final=-7.0, kept=-6.0, seconds=99.0)  # another piece put seed 2 there
    (tmp_path / "sb3_cache.json").write_text(json.dumps(cache))

    row = bench(tmp_path, "--seeds", "2,3", "--timed-seeds", "0", "--reuse-sb3", "--merge")
    assert fake_training == [0, 1, 3]  # seed 2 from the cache, read when its turn came
    assert row["seeds"] == [0, 1, 2, 3] and [o["seed"] for o in row["dlzoo"]] == [0, 1, 2, 3]
    assert row["final"]["values"] == [0.0, 1.0, 2.0, 3.0] and row["sb3_final"]["values"] == [0.0, 10.0, -7.0, 30.0]
    assert row["time_ratio"] == 0.25 and row["timed_seeds"] == 2  # seed 3's SB3 run was not alternated
    assert len(json.loads((tmp_path / "sb3_cache.json").read_text())) == 4  # seed 3 added, nothing lost

    again = bench(tmp_path, "--seeds", "1", "--merge", "--reuse-sb3")  # a rerun seed replaces its entry
    assert again["seeds"] == [0, 1, 2, 3] and again["timed_seeds"] == 2


def test_the_docs_page_beside_the_results_folder_gets_the_table(tmp_path, fake_training):
    out = tmp_path / "checkout" / "docs" / "results" / "agents"
    out.mkdir(parents=True)
    page = tmp_path / "checkout" / "docs" / "agents.md"
    page.write_text("intro\n<!-- agents-table:start -->\nold\n<!-- agents-table:end -->\nafter\n")
    bench(out, "--seeds", "0,1")
    head, table, tail = page.read_text().split("<!-- agents-table")
    assert head == "intro\n" and "| PPO | CartPole-v1 |" in table and "old" not in table and tail.endswith("after\n")
    assert benchmark.docs_page_for(tmp_path) is None  # any other folder: no page touched


def test_without_reuse_every_seed_is_timed(tmp_path, fake_training):
    row = bench(tmp_path, "--seeds", "0,1,2", "--timed-seeds", "1")
    assert fake_training == [0, 1, 2] and row["timed_seeds"] == 3


def test_merge_refuses_a_row_from_another_commit_before_training(tmp_path, fake_training, monkeypatch):
    bench(tmp_path, "--seeds", "0")
    saved = json.loads((tmp_path / "PPO_CartPole-v1.json").read_text())
    (tmp_path / "PPO_CartPole-v1.json").write_text(json.dumps(dict(saved, commit="0000000")))
    monkeypatch.setattr(benchmark, "run_ours", lambda *a: pytest.fail("trained before refusing"))
    with pytest.raises(SystemExit, match=r"--merge: the saved PPO/CartPole-v1 row has commit='0000000', this run"):
        bench(tmp_path, "--seeds", "1", "--merge")
    with pytest.raises(SystemExit, match=r"--timed-seeds -1: expected 0 or more"):
        bench(tmp_path, "--timed-seeds", "-1")


def test_merge_refuses_joining_a_piece_without_sb3(tmp_path, fake_training, monkeypatch):
    bench(tmp_path, "--seeds", "0")
    monkeypatch.setattr(benchmark, "run_ours", lambda *a: pytest.fail("trained before refusing"))
    with pytest.raises(SystemExit, match=r"one piece of the PPO/CartPole-v1 row has SB3's returns and the other not"):
        bench(tmp_path, "--seeds", "1", "--merge", "--no-sb3")


def test_a_row_stopped_part_way_keeps_its_finished_seeds(tmp_path, fake_training, monkeypatch):
    finish = benchmark.run_ours

    def killed_at_seed_2(algo, env_id, steps, seed):
        if seed == 2:
            raise KeyboardInterrupt  # as a stopped process: nothing after this seed runs
        return finish(algo, env_id, steps, seed)

    monkeypatch.setattr(benchmark, "run_ours", killed_at_seed_2)
    with pytest.raises(KeyboardInterrupt):
        bench(tmp_path, "--seeds", "0,1,2,3", "--reuse-sb3")
    saved = json.loads((tmp_path / "PPO_CartPole-v1.json").read_text())
    assert saved["seeds"] == [0, 1] and saved["final"]["values"] == [0.0, 1.0] and saved["timed_seeds"] == 2
    monkeypatch.setattr(benchmark, "run_ours", finish)
    row = bench(tmp_path, "--seeds", "2,3", "--timed-seeds", "0", "--reuse-sb3", "--merge")  # the rest joins
    assert row["seeds"] == [0, 1, 2, 3] and row["final"]["values"] == [0.0, 1.0, 2.0, 3.0]
    assert row["sb3_final"]["values"] == [0.0, 10.0, 20.0, 30.0] and fake_training == [0, 1, 2, 3]


def test_sb3_cache_key_ignores_what_only_dlzoo_runs_with():
    """SB3's returns are reused across dlzoo's compile and init options, not across a real setting."""
    import types

    from agents.sb3_settings import sb3_settings_key

    def key(**fields):
        return sb3_settings_key("TD3", "Pendulum-v1", 20_000, types.SimpleNamespace(learning_rate=1e-3, **fields))

    assert key() == key(jit_compile=True) == key(jit_compile=False, torch_init=True)
    assert key() != key(gamma=0.98)


def test_seed_sweep_reads_its_seeds_and_summarises_any_row():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "sweep_seeds.py"
    spec = importlib.util.spec_from_file_location("sweep_seeds", path)
    sweep = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sweep)
    assert sweep.parse_seeds("0-3,7") == [0, 1, 2, 3, 7]
    lines = [dict(final=500.0, kept=500.0), dict(final=474.5, kept=490.0)]
    assert sweep.summary("x", "CartPole-v1", lines) == ("x: final 487.2 (worst 474.5), kept 495.0 (worst 490.0); "
                                                        "final >= 475 on 1 of 2 seeds, kept >= 475 on 2")
    assert sweep.summary("y", "Pendulum-v1", [dict(final=-150.0, kept=-140.0), dict(final=-250.0, kept=-200.0)]) == \
        "y: final -200.0 (worst -250.0), kept -170.0 (worst -200.0)"
