"""The real-Flux harness, one per test session: started before the first test here that needs
it, stopped after the last one, even when a test or the start-up fails.

Its processes log to artifacts/realflux/run/logs/ (kept after the run, for CI's diagnosis),
its start-up figures go to artifacts/realflux/startup.json and each scenario's recorded
sequence to artifacts/realflux/sequences/.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.realflux.harness import Harness, start_harness

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "realflux"


@pytest.fixture(scope="session")
def realflux() -> Iterator[Harness]:
    harness = start_harness(ARTIFACTS / "run")
    (ARTIFACTS / "startup.json").write_text(json.dumps(harness.timings, indent=2) + "\n")
    try:
        yield harness
    finally:
        harness.stop()


@pytest.fixture(scope="session")
def sequences() -> Path:
    """Where each scenario writes its recorded sequence."""
    path = ARTIFACTS / "sequences"
    path.mkdir(parents=True, exist_ok=True)
    return path
