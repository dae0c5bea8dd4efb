"""docs/sandbox.md's example, run as a reader runs it: examples/sandbox_script.py against a
headless sandbox with the bot, in processes of their own, until the card says deployed; then
the pull request link it prints opens the emulated GitHub's page without a token."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.sandbox.test_headless import start_sandbox, wait_for
from tests.waiting import STARTUP

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "sandbox_script.py"


def test_the_documented_example_script_promotes_to_staging(tmp_path: Path) -> None:
    assert "examples/sandbox_script.py" in (ROOT / "docs" / "sandbox.md").read_text()
    state_file = tmp_path / "state.json"
    proc = start_sandbox(state_file)
    try:
        wait_for(state_file.exists, "the state file", timeout=STARTUP)
        done = subprocess.run([sys.executable, str(EXAMPLE), str(state_file)],
                              capture_output=True, text=True, timeout=STARTUP * 2)
        if done.returncode != 0:
            proc.kill()
            _, logged = proc.communicate(timeout=30)
            raise AssertionError(f"{done.stderr}{done.stdout}\nthe sandbox logged:\n"
                                 f"{logged[-4000:]}")
        assert re.search(r"^the card: Promotion P-\d+ of myapp: dev -> staging, deployed$",
                         done.stdout, re.M), done.stdout
        url = re.search(r"readable in a browser: (\S+)", done.stdout)
        assert url is not None
        state = json.loads(state_file.read_text())
        assert url.group(1).startswith(state["github"]["api_url"])
        with urllib.request.urlopen(url.group(1), timeout=30) as page:
            assert page.headers["Content-Type"].startswith("text/html")
            assert "promote myapp to staging" in page.read().decode()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)


def test_the_documented_in_process_example_runs(tmp_path: Path) -> None:
    doc = (ROOT / "docs" / "sandbox.md").read_text()
    code = re.search(r"### In process.*?```python\n(.*?)```", doc, re.S)
    assert code is not None, "docs/sandbox.md lost its in-process example"
    script = tmp_path / "in_process.py"
    script.write_text(code.group(1))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=STARTUP * 2, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "200"
