"""A small, valid instrument file for the tests of instrument loading and of its translations, so
both start from the same file and a change to the format is made in one place."""

from __future__ import annotations

from pathlib import Path

MINI = """
id = "mini"
version = "2"
name = "Mini"
recall_period = "This week"
licence = "CC0"
source = "tests"

[scales.agree]
min = 1
labels = ["No", "Meh", "Yes"]

[[items]]
id = "mini_1"
text = "I am fine"
construct = "fine"
scale = "agree"

[[items]]
id = "mini_2"
text = "I am not fine"
construct = "fine"
scale = "agree"
reverse = true

[[constructs]]
id = "fine"
method = "mean"
min = 1
max = 3
"""


def write_instrument(tmp_path: Path, text: str, name: str = "mini.toml") -> Path:
    """``text`` as the instrument file ``name`` in ``tmp_path`` (the loader reads files, not text)."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path
