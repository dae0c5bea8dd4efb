"""The core never imports the Slack edge or the Slack libraries (DESIGN.md, section 2)."""

from __future__ import annotations

import ast
from pathlib import Path

FORBIDDEN = ("slack_bolt", "slack_sdk", "handlers", "sandbox")
CORE = Path(__file__).resolve().parents[1] / "slackbot"


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def forbidden_imports(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        for name in _imports(path):
            if name.split(".")[0] in FORBIDDEN:
                found.append(f"{path.relative_to(root.parent)} imports {name}")
    return found


def test_core_imports_no_slack_library_nor_edge() -> None:
    assert forbidden_imports(CORE) == []


def test_layer_check_catches_a_forbidden_import(tmp_path: Path) -> None:
    pkg = tmp_path / "slackbot"
    pkg.mkdir()
    (pkg / "bad.py").write_text("from slack_sdk import WebClient\nimport handlers.app\n")
    assert forbidden_imports(pkg) == [
        "slackbot/bad.py imports slack_sdk",
        "slackbot/bad.py imports handlers.app",
    ]
