"""The README is a contract: commands, exit codes and the CI command must match the code."""

from __future__ import annotations

import re
from pathlib import Path

from evidencekit.cli import main
from evidencekit.errors import ExitCode

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_command_is_in_the_readme() -> None:
    for name in main.commands:
        assert f"evidencekit {name}" in README, f"command {name} missing from README"


def test_every_exit_code_is_in_the_readme_table() -> None:
    rows = set(re.findall(r"^\| (\d) \|", README, flags=re.M))
    assert rows == {str(int(code)) for code in ExitCode}


def test_ci_runs_the_readme_test_command() -> None:
    blocks = re.findall(r"```bash\n(.*?)\n```", README, flags=re.S)
    test_cmd = next(b for b in blocks if "pytest" in b)
    assert test_cmd.strip() in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_every_command_help_has_an_example() -> None:
    for name, cmd in main.commands.items():
        assert "示例" in (cmd.help or ""), f"{name} --help has no example"
