"""The repository stands alone: README's settings table names every variable the settings
reader reads (and no other), every relative link in a Markdown file reaches a file of the
repository, no file points at documents outside it, and LICENSE is the license pyproject says.
"""

from __future__ import annotations

import ast
import re
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
SETTINGS = ROOT / "slackbot" / "settings.py"
VARIABLE = re.compile(r"(SLACK|GITHUB|REDIS|KUBE|PROMOTEBOT)_[A-Z0-9_]+")
# read by the Kubernetes client itself, not by slackbot/settings.py
READ_BY_LIBRARIES = {"KUBECONFIG"}
CHECKED = (".md", ".py", ".yaml", ".yml", ".html", ".js", ".toml", ".json", ".sh", ".txt",
           ".tpl", ".cfg")
# Spelled in pieces, so that this file does not hold what it looks for.
OUTSIDE = ("../" + "shared", "/work/" + "shared", "DESIGN" + ".md", "STYLE" + ".md",
           "beside this " + "repository")
LINK = re.compile(r"\]\(([^)\s]+)\)")


def repository_files() -> list[Path]:
    """The files of the repository: tracked ones and new ones git does not ignore."""
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout
    return [ROOT / name for name in listed.splitlines() if (ROOT / name).is_file()]


def settings_variables() -> set[str]:
    """Every environment variable name slackbot/settings.py spells out."""
    tree = ast.parse(SETTINGS.read_text())
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and VARIABLE.fullmatch(node.value)}


def settings_table() -> dict[str, list[str]]:
    """README's "Settings" table: variable -> its other cells."""
    section = README.read_text().split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows: dict[str, list[str]] = {}
    for line in section.splitlines():
        found = re.match(r"\| `([A-Z0-9_]+)` \|(.*)\|$", line)
        if found:
            rows[found[1]] = [cell.strip() for cell in found[2].split(" | ")]
    return rows


def test_the_settings_table_names_every_variable_the_settings_read() -> None:
    read = settings_variables()
    assert {"SLACK_API_URL", "GITHUB_WEBHOOK_SECRET", "PROMOTEBOT_HOST",
            "PROMOTEBOT_LOG_FORMAT", "PROMOTEBOT_FAILURE_WINDOW_HOURS"} <= read  # the parser
    table = settings_table()
    assert sorted(read - table.keys()) == [], "README's Settings table misses these"
    assert sorted(table.keys() - read - READ_BY_LIBRARIES) == [], "not read by anything"


def test_every_setting_says_what_it_is_and_its_default() -> None:
    for name, cells in settings_table().items():
        assert len(cells) == 2 and all(cells), f"{name}: a meaning and a default: {cells}"


def test_every_relative_markdown_link_reaches_a_file_of_the_repository() -> None:
    broken: list[str] = []
    checked = 0
    for path in repository_files():
        if path.suffix != ".md":
            continue
        for target in LINK.findall(path.read_text(errors="replace")):
            if re.match(r"[a-z]+:|#|<", target):
                continue  # a web address, or an anchor of the same page
            checked += 1
            resolved = (path.parent / target.split("#", 1)[0]).resolve()
            if not resolved.exists() or not resolved.is_relative_to(ROOT):
                broken.append(f"{path.relative_to(ROOT)}: {target}")
    assert checked >= 5  # README's links at least
    assert broken == []


def test_no_file_points_at_documents_outside_the_repository() -> None:
    found = []
    for path in repository_files():
        if path.suffix not in CHECKED and path.name not in ("Dockerfile", "test"):
            continue
        text = path.read_text(errors="replace")
        found += [f"{path.relative_to(ROOT)}: {word}" for word in OUTSIDE if word in text]
    assert found == []


def test_the_license_is_the_apache_license_pyproject_names() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["license"] == {"text": "Apache-2.0"}
    text = (ROOT / "LICENSE").read_text()
    assert "Apache License\n                           Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    assert len(re.findall(r"^\s+\d+\. [A-Z]", text, re.M)) >= 9  # the nine sections, in full
