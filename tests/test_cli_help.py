"""Every option of every command line we ship says what it does in its --help."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
from django.core.management import load_command_class

from recommender.__main__ import parser as recommender_parser

REPO = Path(__file__).resolve().parents[1]
COMMANDS = sorted(
    (path.parents[2].name, path.stem)
    for path in REPO.glob("shopapp/*/management/commands/*.py")
    if not path.stem.startswith("_")
)


def _undocumented(parser: argparse.ArgumentParser, prefix: str = "") -> list[str]:
    """The options and subcommands of ``parser`` (and of its subparsers) without a help text."""
    missing = []
    for action in parser._actions:
        name = prefix + (action.option_strings[-1] if action.option_strings else action.dest)
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                if not (choice.help or "").strip():
                    missing.append(f"{prefix}{choice.dest}")
            for sub_name, sub in action.choices.items():
                missing += _undocumented(sub, prefix=f"{prefix}{sub_name} ")
        elif action.help is argparse.SUPPRESS:
            continue
        elif not (action.help or "").strip():
            missing.append(name)
    return missing


def test_every_option_of_python_m_recommender_has_a_help_text() -> None:
    parser = recommender_parser()
    assert _undocumented(parser) == []
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    assert sorted(commands.choices) == ["benchmark", "train"]


def test_the_management_commands_are_found() -> None:
    assert ("demo", "demo") in COMMANDS
    assert len(COMMANDS) >= 3


@pytest.mark.parametrize(("app", "name"), COMMANDS, ids=[name for _, name in COMMANDS])
def test_every_option_of_each_management_command_has_a_help_text(app: str, name: str) -> None:
    command = load_command_class(f"shopapp.{app}", name)
    assert command.help.strip(), f"manage.py {name} has no description"
    assert _undocumented(command.create_parser("manage.py", name)) == []


def test_an_option_without_help_is_caught() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documented", help="does a thing")
    parser.add_argument("--bare")
    sub = parser.add_subparsers().add_parser("run", help="runs")
    sub.add_argument("--also-bare")
    assert _undocumented(parser) == ["--bare", "run --also-bare"]
