import pathlib
import re

from zoo.cli import markdown_model_table

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_starts_with_the_two_commands():
    head = README.read_text().split("\n\n")[1]
    assert "make run" in head and "make test" in head


def test_readme_model_list_is_current():
    text = README.read_text()
    listed = re.search(r"<!-- models:start -->\n(.*?)\n<!-- models:end -->", text, re.S).group(1)
    assert listed == markdown_model_table(), "run: python scripts/update_readme_models.py"
