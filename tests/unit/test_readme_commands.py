"""The README's commands work as typed in a new terminal: ``make run`` installs ``missionctl``
into ``.venv/bin``, which a fresh shell does not have on its PATH, so every command the README
shows calls it by that path (from the project directory, where the README's commands run)."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def commands_and_inline_code(text: str) -> list[str]:
    blocks = re.findall(r"```(?:sh|bash)?\n(.*?)```", text, re.S)
    lines = [line for block in blocks for line in block.splitlines()]
    return lines + re.findall(r"`([^`\n]+)`", re.sub(r"```.*?```", "", text, flags=re.S))


def test_every_missionctl_command_in_the_readme_runs_without_it_on_the_path():
    readme = (ROOT / "README.md").read_text()
    uses = [c for c in commands_and_inline_code(readme) if re.search(r"\bmissionctl ", c)]
    assert uses, "the README shows missionctl commands"
    bare = [c for c in uses if re.search(r"(?<![/\w-])missionctl ", c)]
    assert bare == [], f"call it as .venv/bin/missionctl: {bare}"


def test_the_path_the_readme_uses_is_where_setup_installs_the_command():
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert "missionctl" in scripts
    makefile = (ROOT / "Makefile").read_text()
    assert "VENV := .venv" in makefile and "$(BIN)/pip install --quiet -e ." in makefile
