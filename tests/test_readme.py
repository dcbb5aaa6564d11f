"""The front page and the docs pages stay true: setup commands first, the generated model list
current, the README short, and every relative link pointing at a file and heading that exist."""

import pathlib
import re

import pytest

from zoo.cli import markdown_model_table

ROOT = pathlib.Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MODELS_PAGE = DOCS / "models-and-weights.md"

#: Pages linked from the docs that other people write; a link to them is checked once they exist.
PENDING_PAGES = {DOCS / "contributing-agents.md", DOCS / "architecture.md"}


def test_readme_starts_with_the_two_commands():
    head = README.read_text().split("\n\n")[1]
    assert "make run" in head and "make test" in head


def test_readme_model_list_is_current():
    text = MODELS_PAGE.read_text()
    listed = re.search(r"<!-- models:start -->\n(.*?)\n<!-- models:end -->", text, re.S).group(1)
    assert listed == markdown_model_table(), "run: python scripts/update_readme_models.py"


def test_readme_model_count_is_current():
    import zoo

    count = re.search(r"<!-- models:count -->(\d+)<!-- /models:count -->", README.read_text()).group(1)
    assert int(count) == len(zoo.list_models()), "run: python scripts/update_readme_models.py"


def test_readme_is_a_front_page():
    assert len(README.read_text().splitlines()) <= 300, "move the detail to docs/"


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def _anchors(path: pathlib.Path) -> set:
    text = re.sub(r"```.*?```", "", path.read_text(), flags=re.S)
    return {_slug(m.group(1)) for m in re.finditer(r"^#{1,6} (.+)$", text, re.M)}


def _pages():
    return [README, *sorted(DOCS.glob("*.md"))]


@pytest.mark.parametrize("page", _pages(), ids=lambda p: p.name)
def test_relative_links_resolve(page):
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):  # http:, https:, mailto:
            continue
        file, _, anchor = target.partition("#")
        path = (page.parent / file).resolve() if file else page
        if path in PENDING_PAGES and not path.exists():
            continue
        if not path.exists():
            broken.append(target)
        elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
            broken.append(target)
    assert not broken, f"{page.name}: broken links {broken}"
