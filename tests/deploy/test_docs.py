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
