"""The pre-commit hooks run exactly the commands of `make lint`: one definition of lint."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _lint_recipe() -> list[str]:
    makefile = (ROOT / "Makefile").read_text()
    venv = re.search(r"^VENV := (\S+)$", makefile, re.MULTILINE)
    recipe = re.search(r"^lint:.*\n((?:\t.*\n)+)", makefile, re.MULTILINE)
    assert venv, "the Makefile has no VENV"
    assert recipe, "the Makefile has no lint recipe"
    return [line.strip().replace("$(VENV)", venv[1]) for line in recipe[1].splitlines()]


def _hook_entries() -> list[str]:
    config = (ROOT / ".pre-commit-config.yaml").read_text()
    return re.findall(r"^\s+entry: (.+?)\s*$", config, re.MULTILINE)


def test_pre_commit_hooks_run_the_lint_recipe_in_order() -> None:
    assert _hook_entries() == _lint_recipe()


def test_pre_commit_hooks_check_the_whole_tree_like_make_lint() -> None:
    config = (ROOT / ".pre-commit-config.yaml").read_text()
    hooks = len(_hook_entries())
    assert hooks == 6
    assert config.count("pass_filenames: false") == hooks
    assert config.count("language: system") == hooks
    assert re.findall(r"^\s+- repo: (\S+)", config, re.MULTILINE) == ["local"]
