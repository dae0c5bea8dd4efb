"""docs/deploy.md stays true: its example values install with the chart (schema, templates,
Kubernetes schemas), its pipeline passes the bot's own check, and it covers the usual mistakes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from slackbot.config import check_pipeline
from tests.deploy.chart import CHART, documents, kube_problems, render

DOC = Path(__file__).resolve().parents[2] / "docs" / "deploy.md"


def example_values() -> dict[str, Any]:
    text = DOC.read_text()
    after = text.split("`values.prod.yaml`:", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", after, re.S)
    assert block is not None
    values: dict[str, Any] = yaml.safe_load(block[1])
    return values


def test_example_values_install_with_the_chart() -> None:
    values = example_values()
    docs = documents(render(values))
    assert kube_problems(docs) == []
    assert any(d["kind"] == "Ingress" for d in docs)


def test_example_pipeline_passes_the_bots_check() -> None:
    assert check_pipeline(example_values()["pipeline"]) == []


def test_troubleshooting_covers_the_usual_mistakes() -> None:
    text = DOC.read_text()
    for mistake in ("not_in_channel", "missing_scope", "401", "403", "appendonly yes"):
        assert mistake in text, mistake


def test_links_point_at_files_that_exist() -> None:
    text = DOC.read_text()
    links = re.findall(r"\]\((\.\./[^)#]+)\)", text)
    assert links
    missing = [link for link in links if not (DOC.parent / link).exists()]
    assert missing == []
    assert (CHART / "values.yaml").exists()


def _table_rows(text: str, header: str) -> dict[str, list[str]]:
    """The rows of the Markdown table under `header` (its first line): first cell -> others."""
    lines = text.split(header, 1)[1].splitlines()[2:]
    rows: dict[str, list[str]] = {}
    for line in lines:
        if not line.strip().startswith("|"):
            break
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        rows[cells[0].strip("`")] = cells[1:]
    return rows


def test_the_slack_scopes_table_explains_every_scope_of_the_manifest() -> None:
    manifest = yaml.safe_load((DOC.parents[1] / "slack-app-manifest.yaml").read_text())
    scopes = manifest["oauth_config"]["scopes"]["bot"]
    rows = _table_rows(DOC.read_text(), "| scope | why |")
    assert sorted(rows) == sorted(scopes)
    assert all(why and why[0] for why in rows.values())


def test_the_github_permissions_table_holds_what_the_start_up_check_asks() -> None:
    from slackbot.adapters.github_access import APP_PERMISSIONS

    names = {"contents": "Contents", "pull_requests": "Pull requests", "checks": "Checks",
             "statuses": "Commit statuses", "metadata": "Metadata"}
    rows = _table_rows(DOC.read_text(), "| permission | level | why |")
    for key, (level, _why) in APP_PERMISSIONS.items():
        assert level in rows[names[key]][0], (key, rows[names[key]])
    assert "Deployments" in rows  # the write-back's


def test_it_says_how_flux_is_asked_and_what_readyz_checks() -> None:
    text = DOC.read_text()
    assert "No Flux Receiver" in text and "reconcile.fluxcd.io/requestedAt" in text
    assert '"failing": ["redis", "github", "kubernetes", "kubernetes:prod-eu"]' in text
    assert "| symptom | cause | what to do |" in text
