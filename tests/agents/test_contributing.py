"""The worked example of docs/contributing-agents.md, run as written: one file, registered, and it gets
trained, saved and loaded by the registry-driven checks every agent gets."""

import pathlib
import re

import pytest
from agent_checks import check_runs, check_save_load, run_cases

import agents

GUIDE = pathlib.Path(__file__).resolve().parents[2] / "docs" / "contributing-agents.md"
BLOCKS = re.findall(r"```python\n(.*?)```", GUIDE.read_text(), flags=re.S)
EXAMPLE = next(block for block in BLOCKS if "@agents.register_agent" in block)

example = {"__name__": __name__}
exec(compile(EXAMPLE, str(GUIDE), "exec"), example)  # registers VPG from this module, as agents/vpg.py would
VPG, VPGConfig = example["VPG"], example["VPGConfig"]


@pytest.fixture(scope="module", autouse=True)
def _unregister_after_module():
    yield
    agents.registry._AGENTS.pop("VPG", None)


def test_the_example_is_registered_and_exported():
    assert "VPG" in agents.list_agents() and agents.make("vpg", "CartPole-v1").name == "VPG"
    assert agents.VPG is VPG and agents.VPGConfig is VPGConfig


@pytest.mark.parametrize("env_id", [env for _, env in run_cases(["VPG"])])
def test_the_example_gets_the_registry_driven_checks(env_id, tmp_path):
    check_runs("VPG", env_id)
    if env_id == "Pendulum-v1":
        check_save_load("VPG", tmp_path)
