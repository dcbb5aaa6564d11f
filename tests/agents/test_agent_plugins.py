"""Third-party agents through the ``dlzoo.agents`` entry points, from a small distribution on ``sys.path``."""

import sys
import textwrap

import pytest

import agents
from zoo.core import plugins

PLUGIN = textwrap.dedent("""
    import agents


    @agents.register_agent
    class PluginA2C(agents.A2C):
        \"\"\"A2C under another name: a plugin agent.\"\"\"

        name = "PluginA2C"
        test_learns = {}
""")


@pytest.fixture
def plugin_dist(tmp_path, monkeypatch):
    """A distribution with one good and one broken agent plugin; the registry is restored afterwards."""
    info = tmp_path / "dlzoo_test_plugins-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: dlzoo-test-plugins\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        "[dlzoo.agents]\nplugin_a2c = dlzoo_test_plugin_a2c\nbroken_agent = dlzoo_test_plugin_broken\n")
    (tmp_path / "dlzoo_test_plugin_a2c.py").write_text(PLUGIN)
    (tmp_path / "dlzoo_test_plugin_broken.py").write_text("raise ImportError('this plugin is broken on purpose')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    saved = dict(agents.registry._AGENTS)
    plugins._reset()
    yield tmp_path
    plugins._reset()
    agents.registry._AGENTS.clear()
    agents.registry._AGENTS.update(saved)
    for module in ("dlzoo_test_plugin_a2c", "dlzoo_test_plugin_broken"):
        sys.modules.pop(module, None)


def test_plugin_agents_load_on_first_access_and_broken_ones_are_reported(plugin_dist, tmp_path):
    with pytest.warns(RuntimeWarning, match=r"plugin 'broken_agent'.*broken on purpose"):
        cls = agents.PluginA2C  # attribute lookup is a registry access: the plugins load here
    assert cls.name == "PluginA2C" and issubclass(cls, agents.A2C)
    assert "PluginA2C" in agents.list_agents() and "A2C" in agents.list_agents()  # the built-ins are intact
    assert "broken on purpose" in plugins.failed_plugins("dlzoo.agents")["broken_agent"]
    assert "broken_agent" not in agents.list_agents()
    agent = agents.make("PluginA2C", "CartPole-v1", seed=0, n_steps=4, net_arch=(8,), jit_compile=False).learn(16)
    loaded = agents.load(agent.save(tmp_path / "plugin_agent"))
    assert type(loaded) is cls and loaded.num_timesteps == agent.num_timesteps > 0


def test_a_broken_plugin_does_not_break_the_registry(plugin_dist):
    with pytest.warns(RuntimeWarning, match="broken_agent"):
        names = agents.list_agents()
    assert {"A2C", "PPO", "PluginA2C"} <= set(names)
    with pytest.raises(AttributeError, match="no attribute 'NoSuchAgent'"):
        _ = agents.NoSuchAgent
