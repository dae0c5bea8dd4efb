"""The core never imports the Slack edge or the Slack libraries (DESIGN.md, section 2)."""

from __future__ import annotations

import ast
from pathlib import Path

FORBIDDEN = ("slack_bolt", "slack_sdk", "handlers", "sandbox", "promotebot")
ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "slackbot"
# Only adapter modules talk to the outside world through an SDK (STYLE.md).
SDKS = ("redis", "fakeredis", "github", "git", "kubernetes")
SDK_HOMES = ("slackbot/adapters/", "slackbot/store.py")


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def forbidden_imports(root: Path, forbidden: tuple[str, ...] = FORBIDDEN) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        for name in _imports(path):
            if name.split(".")[0] in forbidden:
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


def test_slack_edge_imports_neither_emulators_nor_composition_root() -> None:
    assert forbidden_imports(ROOT / "handlers", ("sandbox", "promotebot")) == []


def test_only_adapters_import_sdks() -> None:
    found = [line for line in forbidden_imports(CORE, SDKS)
             if not line.startswith(SDK_HOMES)]
    assert found == []
