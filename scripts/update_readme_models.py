"""Regenerate the model list from the registry (tests/test_readme.py checks it).

The table lives in docs/models-and-weights.md between ``<!-- models:start -->`` and
``<!-- models:end -->``; README.md keeps the count between ``<!-- models:count -->`` and
``<!-- /models:count -->``. Run from anywhere: ``python scripts/update_readme_models.py``.
"""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
MODELS_PAGE = ROOT / "docs" / "models-and-weights.md"
README = ROOT / "README.md"

START, END = "<!-- models:start -->", "<!-- models:end -->"
COUNT_START, COUNT_END = "<!-- models:count -->", "<!-- /models:count -->"


def render() -> str:
    from zoo.cli import markdown_model_table

    return f"{START}\n{markdown_model_table()}\n{END}"


def render_count() -> str:
    import zoo

    return f"{COUNT_START}{len(zoo.list_models())}{COUNT_END}"


def _replace(path: pathlib.Path, start: str, end: str, new: str):
    text = path.read_text()
    pattern = re.escape(start) + ".*?" + re.escape(end)
    if not re.search(pattern, text, flags=re.S):
        raise SystemExit(f"{path}: no {start} ... {end} markers")
    path.write_text(re.sub(pattern, lambda _: new, text, flags=re.S))


def main(page=MODELS_PAGE, readme=README):
    page, readme = pathlib.Path(page), pathlib.Path(readme)
    _replace(page, START, END, render())
    _replace(readme, COUNT_START, COUNT_END, render_count())
    print(f"updated the model list in {page} and the model count in {readme}")


if __name__ == "__main__":
    main(*sys.argv[1:])
