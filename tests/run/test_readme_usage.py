"""The README's usage block lists every command and option the CLI has."""

import argparse

from conftest import ROOT

from crmkit.run.cli import build_parser


def test_readme_usage_lists_every_option():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    usage = readme[readme.index("```text\ncrmkit init") : readme.index("## Outputs")]
    commands = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(commands.choices) == {"init", "sample", "validate", "run", "stage", "index"}
    for name, command in commands.choices.items():
        assert f"crmkit {name}" in usage
        options = [
            option
            for action in command._actions
            for option in action.option_strings
            if option.startswith("--") and option != "--help"
        ]
        missing = [option for option in options if option not in usage]
        assert not missing, f"README's usage of `crmkit {name}` lacks {missing}"
