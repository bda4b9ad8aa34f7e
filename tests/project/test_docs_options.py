"""Every option of every command is documented: in its command's README section or in docs/*.md."""

from __future__ import annotations

import re

import pytest
import typer

from attrgraph_cli.cli import app
from attrgraph_testing.paths import REPO

COMMANDS = typer.main.get_command(app).commands


def readme_section(command: str) -> str:
    """The README's `### attrgraph COMMAND` section (empty when there is none)."""
    text = (REPO / "README.md").read_text()
    found = re.search(rf"^### `attrgraph {command}`.*?(?=^##)", text, re.S | re.M)
    return found.group(0) if found else ""


def docs_text() -> str:
    return "\n".join(p.read_text() for p in sorted((REPO / "docs").glob("*.md")))


def mentioned(name: str, text: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text) is not None


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_option_is_documented(command: str) -> None:
    section, docs = readme_section(command), docs_text()
    names = [
        name
        for param in COMMANDS[command].params
        if param.param_type_name == "option"
        for name in (*param.opts, *param.secondary_opts)
        if name.startswith("--")
    ]
    missing = [name for name in names if not (mentioned(name, section) or mentioned(name, docs))]
    assert not missing, f"attrgraph {command}: options in neither its README section nor docs/: {missing}"


def test_every_command_has_a_readme_section() -> None:
    missing = [c for c in COMMANDS if not readme_section(c)]
    assert not missing, f"commands without a README section: {missing}"


def test_the_check_sees_a_missing_option() -> None:
    """Control: an option that is documented nowhere is reported."""
    assert not mentioned("--no-such-option-anywhere", readme_section("trace") + docs_text())
    assert mentioned("--mkdir", readme_section("trace"))


def test_relative_links_in_the_readme_and_docs_resolve() -> None:
    broken = []
    for page in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), REPO / "examples" / "README.md"]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" not in target and not (page.parent / target).exists():
                broken.append(f"{page.relative_to(REPO)} -> {target}")
    assert not broken, broken
