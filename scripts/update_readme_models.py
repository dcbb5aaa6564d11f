"""Regenerate the model list in README.md from the registry (tests/test_readme.py checks it)."""

import pathlib
import re
import sys

START, END = "<!-- models:start -->", "<!-- models:end -->"


def render() -> str:
    from zoo.cli import markdown_model_table

    return f"{START}\n{markdown_model_table()}\n{END}"


def main(path="README.md"):
    readme = pathlib.Path(path)
    text = readme.read_text()
    new = re.sub(re.escape(START) + ".*?" + re.escape(END), lambda _: render(), text, flags=re.S)
    readme.write_text(new)
    print(f"updated the model list in {path}")


if __name__ == "__main__":
    main(*sys.argv[1:])
