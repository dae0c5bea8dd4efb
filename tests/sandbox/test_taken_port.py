"""A taken web UI port: `promotebot sandbox` says so in one line naming the port and `--port`,
and exits 2, before it starts anything (a real process against a port this test holds)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

from tests.waiting import STARTUP


def test_a_taken_port_is_one_line_naming_the_port_and_the_option() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as held:
        held.bind(("127.0.0.1", 0))
        held.listen(1)
        port = held.getsockname()[1]
        done = subprocess.run(
            [sys.executable, "-m", "promotebot.cli", "sandbox", "--port", str(port)],
            capture_output=True, text=True, timeout=STARTUP,
            env={k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "GITHUB_"))},
        )
    assert done.returncode == 2
    assert done.stderr == (f"promotebot sandbox: port {port} is in use; pass --port N, "
                           f"or --port 0 for any free port\n")
    assert "Traceback" not in done.stdout and "is running" not in done.stdout
