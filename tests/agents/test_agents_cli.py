"""``python -m agents`` end to end: train writes the agent, the episode log and resumes after a SIGKILL to the
weights of an uninterrupted run; ``hyperparams`` names each value's source; ``enjoy --gif`` writes an
animated GIF; bad arguments exit with 2 and one line; ``benchmark --table`` reads the saved rows.

The four subprocesses (trains and enjoy; TensorFlow's import is most of their time) run two at a time in one
module fixture; the argument checks run ``agents.cli.main`` in this process."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import agents
from agents import benchmark, checkpoint, cli
from agents.hyperparams import parse_assignment, read_config, resolve
from agents.monitor import read_episodes

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
HOLD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cli_hold_script.py")
TINY = ["ppo", "CartPole-v1", "--n-timesteps", "256", "--seed", "3", "--hyperparams", "n_envs=2", "n_steps=32",
        "batch_size=32", "n_epochs=2", "net_arch=(16,)", "jit_compile=False"]
BAR = re.compile(r"^PPO CartPole-v1: +\d+%")


def start(args, cwd, script=None):
    env = {**os.environ, "PYTHONPATH": ROOT, "CUDA_VISIBLE_DEVICES": ""}
    command = [sys.executable, script] if script else [sys.executable, "-m", "agents"]
    return subprocess.Popen(command + [str(a) for a in args], cwd=cwd, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def finish(proc, timeout=240):
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def stderr_lines(err):
    """The lines of stderr, tqdm's carriage-return redraws split apart, blanks dropped."""
    return [line.strip() for line in re.split(r"[\r\n]", err) if line.strip()]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The reference run and the killed run together; then the rerun, and enjoy on the reference's agent."""
    tmp = tmp_path_factory.mktemp("cli")
    ckpt, ref_log, res_log = tmp / "ckpt", tmp / "ref_log", tmp / "res_log"
    resumed_cmd = ["train", *TINY, "--checkpoint-dir", ckpt, "--checkpoint-every", "64", "--log-dir", res_log,
                   "--save", tmp / "resumed.zip"]
    procs = {
        "reference": start(["train", *TINY, "--log-dir", ref_log, "--save", tmp / "reference"], tmp),
        "killed": start(resumed_cmd[1:], tmp, script=HOLD),
    }
    results = {}
    try:
        deadline = time.monotonic() + 180
        while not os.path.exists(checkpoint.checkpoint_path(ckpt)):
            assert procs["killed"].poll() is None, procs["killed"].communicate()[1][-3000:]
            assert time.monotonic() < deadline, "no checkpoint within 180 s"
            time.sleep(0.05)
        step = checkpoint.read_info(ckpt)["num_timesteps"]
        while not any(s > step for s, _, _ in read_episodes(res_log / "episodes.csv")):  # it plays past it, then holds
            assert procs["killed"].poll() is None and time.monotonic() < deadline
            time.sleep(0.05)
        os.kill(procs["killed"].pid, signal.SIGKILL)
        results["killed"] = finish(procs.pop("killed"))
        results["killed_rows"] = read_episodes(res_log / "episodes.csv")
        results["killed_info"] = checkpoint.read_info(ckpt)
        procs["resumed"] = start(resumed_cmd, tmp)
        results["reference"] = finish(procs["reference"])
        procs["enjoy"] = start(["enjoy", tmp / "reference.zip", "--episodes", "2", "--seed", "1", "--gif",
                                tmp / "play.gif", "--max-frames", "40"], tmp)
        results.update({name: finish(proc) for name, proc in procs.items() if name != "reference"})
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
    results.update(tmp=tmp, ref_log=ref_log, res_log=res_log, ckpt=ckpt)
    return results


def weights(path):
    agent = agents.load(path)
    try:
        return [np.asarray(w) for w in agent.model.get_weights()], agent.num_timesteps
    finally:
        agent.close()


def test_train_saves_the_agent_and_the_episode_log(runs):
    rc, out, err = runs["reference"]
    assert rc == 0, err[-3000:]
    lines = out.splitlines()
    assert re.fullmatch(r"PPO on CartPole-v1: 256 steps in [\d.]+ s; mean return of the last \d+ episodes [\d.]+",
                        lines[0]), out
    assert lines[1:] == [f"saved {runs['tmp'] / 'reference.zip'}"]
    assert all(BAR.match(line) for line in stderr_lines(err)), err  # quiet apart from the progress bar
    rows = read_episodes(runs["ref_log"] / "episodes.csv")
    steps = [s for s, _, _ in rows]
    assert rows and steps == sorted(steps) and steps[-1] <= 256
    assert all(r == n for _, r, n in rows)  # CartPole pays 1 per step
    # the printed mean is the agent's window over the same episodes
    mean = float(lines[0].rsplit(" ", 1)[1])
    assert mean == pytest.approx(np.mean([r for _, r, _ in rows][-100:]), abs=0.006)
    config = json.loads((runs["ref_log"] / "config.json").read_text())
    assert config["run"]["n_timesteps"] == 256 and config["agent"]["hyperparams"]["n_steps"] == 32
    assert config["agent"]["hyperparams"]["n_epochs"] == 2 and config["agent"]["hyperparams"]["gamma"] == 0.98


def test_a_killed_run_rerun_resumes_to_the_uninterrupted_weights_and_log(runs):
    assert runs["killed"][0] == -signal.SIGKILL
    info = runs["killed_info"]
    assert not info["done"] and 0 < info["num_timesteps"] < 256
    assert max(s for s, _, _ in runs["killed_rows"]) > info["num_timesteps"]  # the log ran past the checkpoint
    rc, out, err = runs["resumed"]
    assert rc == 0, err[-3000:]
    assert stderr_lines(err)[0] == f"resuming from {runs['ckpt']} at step {info['num_timesteps']}"
    assert all(BAR.match(line) for line in stderr_lines(err)[1:]), err
    assert checkpoint.read_info(runs["ckpt"])["done"]
    ours, steps = weights(runs["tmp"] / "resumed.zip")
    reference, ref_steps = weights(runs["tmp"] / "reference.zip")
    assert steps == ref_steps == 256
    assert len(ours) == len(reference) and all(np.array_equal(a, b) for a, b in zip(ours, reference))
    # the rows the killed run wrote after its checkpoint were replaced: the log equals the uninterrupted one
    assert read_episodes(runs["res_log"] / "episodes.csv") == read_episodes(runs["ref_log"] / "episodes.csv")


def test_hyperparams_names_each_source(capsys, tmp_path):
    config = tmp_path / "conf.json"
    config.write_text(json.dumps({"n_timesteps": 500, "hyperparams": {"gamma": 0.95, "batch_size": 16}}))  # train's file
    rc, out, err = run_main(["hyperparams", "DQN", "CartPole-v1", "--config", str(config),
                             "--hyperparams", "batch_size=32"], capsys)
    assert rc == 0 and err == "", err
    rows = {line.split()[0]: line.split(None, 2)[1:] for line in out.splitlines()[2:]}
    assert out.splitlines()[0] == "DQN on CartPole-v1"
    assert rows["batch_size"] == ["32", "override"]  # the command line over the config file's 16
    assert rows["gamma"] == ["0.95", "config file"]
    assert rows["learning_rate"] == ["0.0023", "rl-zoo"]
    assert rows["lr_schedule"] == ["'linear'", "dlzoo tuned"]  # rl-zoo's table has no schedule
    assert rows["double_q"] == ["True", "dlzoo tuned"]
    assert rows["train_freq"] == ["256", "rl-zoo"]
    assert rows["gradient_steps"] == ["64", "dlzoo tuned (rl-zoo: 128)"]  # halved, on batches twice as large
    assert rows["exploration_initial_eps"] == ["1.0", "dlzoo default"]
    assert rows["policy"] == ["'mlp'", "dlzoo default"]


def test_enjoy_prints_returns_and_writes_an_animated_gif(runs):
    from PIL import Image

    rc, out, err = runs["enjoy"]
    assert rc == 0 and err == "", err
    lines = out.splitlines()
    episodes = [re.fullmatch(r"episode (\d): return ([\d.]+), length (\d+)", line) for line in lines[:2]]
    assert [int(m[1]) for m in episodes] == [1, 2]
    returns = [float(m[2]) for m in episodes]
    assert returns == [float(m[3]) for m in episodes]  # CartPole: the return is the length
    assert lines[2] == f"mean return over 2 episodes: {np.mean(returns):.2f} ± {np.std(returns):.2f}"
    assert lines[3] == f"wrote {runs['tmp'] / 'play.gif'}"
    with Image.open(runs["tmp"] / "play.gif") as gif:
        assert gif.format == "GIF" and gif.n_frames > 1 and gif.size == (600, 400)


def test_a_bad_argument_exits_2_with_one_line(capsys):
    rc, out, err = run_main(["train", "ppo2", "CartPole-v1"], capsys)
    assert (rc, out) == (2, "")
    from agents.registry import list_agents  # plugins registered by other tests (VPG) are listed too

    assert err == ("python -m agents train: error: argument ALGO: unknown agent name='ppo2'; did you mean PPO?; "
                   f"expected one of {list_agents()}\n")
    assert {"A2C", "DDPG", "DQN", "PPO", "REINFORCE", "SAC", "TD3"} <= set(list_agents())


# ---------------------------------------------------------------------------------------------- in this process


def run_main(argv, capsys):
    try:
        rc = cli.main(argv)
    except SystemExit as exit_:
        rc = exit_.code
    out, err = capsys.readouterr()
    return rc, out, err


@pytest.mark.parametrize("argv, message", [
    (["train", "ppo", "CartPole-v9"], r"argument ENV: unknown environment env='CartPole-v9'; did you mean CartPole-v1"),
    (["train", "ppo", "CartPole-v1", "--hyperparams", "n_steps"], r"argument --hyperparams: invalid value 'n_steps'; "
     r"expected NAME=VALUE"),
    (["train", "ppo", "CartPole-v1", "--hyperparams", "nsteps=8"], r"unknown hyperparameter 'nsteps' in --hyperparams "
     r"\(did you mean n_steps\?\); accepted: activation, adam_form, batch_size, .*, vec_env, use_rl_zoo$"),
    (["train", "ppo", "CartPole-v1", "--hyperparams", "n_steps=abc"], r"PPO: invalid n_steps='abc'; expected an integer"),
    (["train", "ppo", "CartPole-v1", "--config", "missing.yaml"], r"argument --config: file not found: 'missing.yaml'"),
    (["train", "ppo", "CartPole-v1", "--n-timesteps", "0"], r"argument --n-timesteps: invalid value '0'; expected a "
     r"positive integer"),
    (["enjoy", "missing.zip"], r"python -m agents enjoy: error: argument PATH: file not found: 'missing.zip'"),
    (["trian"], r"invalid choice: 'trian' \(choose from 'train', 'hyperparams', 'enjoy', 'benchmark'\)"),
    (["benchmark", "--only", "XYZ/*"], r"--only \['XYZ/\*'\]: no row matches; rows: DQN/CartPole-v1, "),
])
def test_bad_arguments_exit_2_with_one_line_naming_them(argv, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, out, err = run_main(argv, capsys)
    assert (rc, out) == (2, "") and err.count("\n") == 1 and err.startswith("python -m agents"), err
    assert re.search(message, err), err


def test_a_bad_config_file_exits_2_naming_the_key(capsys, tmp_path):
    config = tmp_path / "run.yaml"
    config.write_text("n_timesteps: 100\nn_epoch: 3\n")
    rc, _, err = run_main(["train", "ppo", "CartPole-v1", "--config", str(config)], capsys)
    assert rc == 2 and err.count("\n") == 1
    assert f"argument --config: unknown key 'n_epoch' in config file '{config}'; accepted: checkpoint_dir" in err
    config.write_text("hyperparams: {n_steps: 16}\nseed: zero\n")
    rc, _, err = run_main(["train", "ppo", "CartPole-v1", "--config", str(config)], capsys)
    assert rc == 2 and f"invalid seed='zero' in config file '{config}'; expected int" in err


def test_outputs_are_checked_before_training(capsys, tmp_path):
    a_file = tmp_path / "taken"
    a_file.write_text("")
    rc, _, err = run_main(["train", "ppo", "CartPole-v1", "--log-dir", str(a_file)], capsys)
    assert rc == 2 and err.endswith(f"argument --log-dir: invalid value '{a_file}': it is a file; expected a folder\n")
    rc, _, err = run_main(["train", "ppo", "CartPole-v1", "--save", str(tmp_path)], capsys)
    assert rc == 2 and f"argument --save: invalid value '{tmp_path}': it is a folder; expected a file path" in err
    rc, _, err = run_main(["enjoy", str(a_file), "--gif", str(tmp_path / "no" / "x.gif")], capsys)
    assert rc == 2 and err.endswith("argument --gif: invalid value " + repr(str(tmp_path / "no" / "x.gif"))
                                    + ": its folder does not exist\n")
    rc, _, err = run_main(["enjoy", str(a_file)], capsys)
    assert rc == 2 and f"argument PATH: could not read agent file '{a_file}'" in err


def test_help_shows_the_defaults(capsys):
    rc, out, _ = run_main(["train", "--help"], capsys)
    assert rc == 0
    text = " ".join(out.split())
    for default in ("(default: 0)", "episodes per evaluation (default: 5)", "else 100000)", "default: never"):
        assert default in text
    rc, out, _ = run_main(["enjoy", "--help"], capsys)
    text = " ".join(out.split())
    assert "the end) (default: 1000)" in text and "episodes to play (default: 3)" in text


def test_benchmark_table_reads_the_saved_rows_and_leaves_the_docs_alone(capsys, tmp_path):
    saved = os.path.join(ROOT, "docs", "results", "agents")
    for name in os.listdir(saved):
        if name.endswith(".json"):
            shutil.copy(os.path.join(saved, name), tmp_path)
    page = os.path.join(ROOT, "docs", "agents.md")
    before = open(page).read()
    rc, out, _ = run_main(["benchmark", "--table", "--out", str(tmp_path)], capsys)
    assert rc == 0 and out == benchmark.table(saved) + "\n"
    assert "| PPO | CartPole-v1 | 100,000 | 0,1,2,3,4 | 500.0 ± 0.0 (500.0) |" in out
    assert (tmp_path / "agents.md").read_text() == open(os.path.join(saved, "agents.md")).read()
    assert open(page).read() == before


def test_benchmark_without_stable_baselines3_names_the_extra(capsys, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "stable_baselines3", None)  # import fails as if not installed
    rc, _, err = run_main(["benchmark", "--only", "PPO/CartPole-v1", "--out", str(tmp_path)], capsys)
    assert rc == 2 and "install the bench extra (pip install -e '.[bench]') or pass --no-sb3" in err
    assert not list(tmp_path.iterdir())  # refused before any row ran


def test_parse_assignment_reads_literals_else_strings():
    assert parse_assignment("net_arch=(64, 64)") == ("net_arch", (64, 64))
    assert parse_assignment("learning_rate=1e-3") == ("learning_rate", 1e-3)
    assert parse_assignment("activation=relu") == ("activation", "relu")
    assert parse_assignment("clip_range_vf=None") == ("clip_range_vf", None)
    with pytest.raises(ValueError, match=r"invalid value '=3'; expected NAME=VALUE"):
        parse_assignment("=3")


def test_resolve_applies_what_the_agent_applies():
    resolved = resolve(agents.PPO, "Pendulum-v1", {"gamma": 0.9}, {"n_envs": 2})
    rows = {name: (value, source) for name, value, source in resolved.rows}
    assert resolved.kwargs == {"gamma": 0.9, "n_envs": 2}
    agent = agents.PPO("Pendulum-v1", **resolved.kwargs)
    try:
        for name, (value, _) in rows.items():
            assert (agent.policy if name == "policy" else getattr(agent.config, name)) == value, name
    finally:
        agent.close()
    assert rows["n_envs"] == (2, "override") and rows["gamma"] == (0.9, "config file")
    off = {n: s for n, _, s in resolve(agents.DQN, "CartPole-v1", {}, {"use_rl_zoo": False}).rows}
    assert set(off.values()) == {"dlzoo default"}  # use_rl_zoo=False: neither rl-zoo's nor dlzoo's tuned values


def test_read_config_takes_yaml_and_json(tmp_path):
    (tmp_path / "a.yaml").write_text("n-timesteps: 500\nhyperparams:\n  net_arch: [32, 32]\n")
    assert read_config(tmp_path / "a.yaml", cli.TRAIN_OPTIONS) == ({"n_timesteps": 500}, {"net_arch": (32, 32)})
    (tmp_path / "b.json").write_text('[1, 2]')
    with pytest.raises(ValueError, match=r"invalid config file .*b.json': a list; expected a mapping of options"):
        read_config(tmp_path / "b.json", cli.TRAIN_OPTIONS)
    (tmp_path / "c.toml").write_text("")
    with pytest.raises(ValueError, match=r"could not read config file .*c.toml': expected a .yaml, .yml or .json"):
        read_config(tmp_path / "c.toml", cli.TRAIN_OPTIONS)


def test_episode_log_writes_tensorboard_scalars_when_tensorboard_is_there(tmp_path):
    import importlib.util

    from agents.monitor import EpisodeLog

    if importlib.util.find_spec("tensorboard") is None:
        with pytest.raises(ImportError, match=r"tensorboard=True needs the tensorboard package"):
            EpisodeLog(tmp_path, tensorboard=True)
        assert EpisodeLog(tmp_path).tensorboard is False  # the default: only when installed
        return
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    agent = agents.PPO("CartPole-v1", n_envs=1, n_steps=64, batch_size=32, n_epochs=1, net_arch=(8,),
                       jit_compile=False, use_rl_zoo=False)
    agent.learn(128, callbacks=[EpisodeLog(tmp_path, tensorboard=True)])
    agent.close()
    events = EventAccumulator(str(tmp_path / "tensorboard"), size_guidance={"tensors": 0})
    events.Reload()
    rows = read_episodes(tmp_path / "episodes.csv")
    assert [e.step for e in events.Tensors("episode/return")] == [s for s, _, _ in rows]
    assert [e.step for e in events.Tensors("train/loss")] == [64, 128]
