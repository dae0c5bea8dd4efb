"""Fixtures shared by the whole suite: hygiene of the environment and one real redis-server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from sandbox.slack.workspace import ACK_VARIABLE, TRIGGER_TTL_VARIABLE
from tests.redis_server import redis_server

# Slack's 3 s for a trigger_id is real time: on a starved machine a click's dialog could miss it.
# Every emulated workspace of the suite (and of the sandboxes it starts as processes) gives
# triggers ten minutes; tests/slack tests the 3 s expiry itself on a stepped clock.
os.environ[TRIGGER_TTL_VARIABLE] = "600"
# Slack's 3 s for an ack is real time too: the emulated workspaces wait ten minutes for an
# answer (a starved machine may run the bot's request thread late); tests/slack tests the
# timeout itself with an emulator given a short one.
os.environ[ACK_VARIABLE] = "600"


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test builds its own settings: nothing leaks in from the machine's environment."""
    for key in list(os.environ):
        if key.startswith(("SLACK_", "GITHUB_", "REDIS_", "PROMOTEBOT_", "KUBECONFIG")):
            monkeypatch.delenv(key, raising=False)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real redis-server on a free port, for the whole session (tests flush what they use)."""
    with redis_server() as url:
        yield url


def _work_unit(nodeid: str) -> str:
    """What one pytest-xdist worker runs together: a file, so its module fixtures start once;
    all of tests/realflux, which shares one harness (etcd, an API server and the controllers,
    in one directory)."""
    path = nodeid.split("::", 1)[0]
    return "tests/realflux" if path.startswith("tests/realflux/") else path


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`./scripts/test` runs the suite on several workers, scheduled by `_work_unit`
    (xdist's own `loadgroup` cannot rename node ids on pytest 9)."""
    from xdist.scheduler import LoadScopeScheduling

    class ByWorkUnit(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _work_unit(nodeid)

    return ByWorkUnit(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On pytest-xdist's workers the longest unit, tests/realflux, is handed out first."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        items.sort(key=lambda item: _work_unit(item.nodeid) != "tests/realflux")
