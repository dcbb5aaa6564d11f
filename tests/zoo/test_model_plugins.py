"""Plugins: a distribution that declares a ``dlzoo.models`` entry point adds its family to the
registry; a broken one is reported by name and breaks nothing.

The distributions are written into a temporary folder on ``sys.path`` (a ``.dist-info``
folder with ``METADATA`` and ``entry_points.txt``, and the plugin modules), as pip
would install them.
"""

import importlib
import sys
import textwrap

import pytest

import zoo
from zoo import registry
from zoo.core import plugins

#: A plugin module: a family registered from outside the zoo (here on the zoo's MLP builder).
PLUGIN = '''
from zoo.models.mlp import _mlp
from zoo.registry import register


@register(family="toyplug", task="classification", builder=_mlp, params=64 * 4 + 4 + 4 * 10 + 10,
          input_range="[0, 1]")
def toyplug_mlp():
    """A plugin's MLP: one hidden layer of 4 units."""
    return dict(hidden_units=(4,))
'''

MODULES = ("toyplug_models", "toyplug_broken")


@pytest.fixture
def install(tmp_path):
    """``install(entry_points)`` writes the toyplug distribution; everything is undone afterwards."""
    site = tmp_path / "site"

    def write(entry_points: dict):
        info = site / "toyplug-0.1.dist-info"
        info.mkdir(parents=True)
        (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toyplug\nVersion: 0.1\n")
        lines = "".join(f"{name} = {module}\n" for name, module in entry_points.items())
        (info / "entry_points.txt").write_text(f"[dlzoo.models]\n{lines}")
        (site / "toyplug_models.py").write_text(textwrap.dedent(PLUGIN))
        (site / "toyplug_broken.py").write_text("raise ImportError('toyplug_broken needs a missing library')\n")
        sys.path.insert(0, str(site))
        importlib.invalidate_caches()
        plugins._reset()

    zoo.list_models()  # the built-in families and any installed plugins, before ours
    before = dict(registry._REGISTRY)
    yield write
    if str(site) in sys.path:
        sys.path.remove(str(site))
    importlib.invalidate_caches()
    for module in MODULES:
        sys.modules.pop(module, None)
    registry._REGISTRY.clear()
    registry._REGISTRY.update(before)
    plugins._reset()
    plugins.load_plugins("dlzoo.models")  # what was installed before, as before


def test_a_plugin_family_is_listed_and_built(install):
    install({"toyplug": "toyplug_models"})
    assert plugins.load_plugins("dlzoo.models") == ["toyplug"]
    assert zoo.list_models(family="toyplug") == ["toyplug_mlp"]
    assert zoo.info("toyplug_mlp")["params"] == 310 == zoo.get("toyplug_mlp").count_params()
    model = zoo.get("toyplug_mlp", num_classes=2)
    assert model.output_shape == (None, 2) and model.count_params() == 64 * 4 + 4 + 4 * 2 + 2
    assert plugins.failed_plugins("dlzoo.models") == {}


def test_a_broken_plugin_is_reported_and_breaks_nothing(install):
    install({"broken": "toyplug_broken", "toyplug": "toyplug_models"})
    with pytest.warns(RuntimeWarning, match=r"dlzoo plugin 'broken' \(toyplug_broken.*needs a missing library"):
        names = zoo.list_models()  # the first registry access after the reset loads the plugins
    assert "toyplug_mlp" in names and "resnet50" in names
    failed = plugins.failed_plugins("dlzoo.models")
    assert list(failed) == ["broken"] and "ImportError" in failed["broken"]
    assert zoo.get("mlp").output_shape == (None, 10)
