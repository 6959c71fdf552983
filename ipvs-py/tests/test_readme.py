"""Runs the README's Python quick start, so it stays true."""

from __future__ import annotations

import pathlib
import re

import pytest


def test_readme_python_quickstart(capsys: pytest.CaptureFixture[str]) -> None:
    readme = (pathlib.Path(__file__).resolve().parents[2] / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert blocks, "the README has no Python example"
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {})
    out = capsys.readouterr().out
    assert "17 add_service TCP 192.0.2.1:80" in out
    assert "('198.51.100.1', 0)" in out
