"""`promotebot serve` as a real process: it logs JSON lines by default (DEBUG here, every
logger), masks every token, warns on a mis-signed GitHub delivery, and serves /metrics."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from sandbox.slack.models import VERIFICATION_TOKEN
from sandbox.world import BOT_GITHUB_TOKEN, BOT_TOKEN, DEPLOYS, SIGNING_SECRET, World
from tests.e2e.conftest import DEV, wait_for
from tests.observability.conftest import WEBHOOK_SECRET
from tests.redis_server import free_port
from tests.waiting import STARTUP


def _request(url: str, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers or {},
                                     method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except urllib.error.URLError:
        return 0, b""


def test_serve_logs_json_lines_without_tokens_by_default(tmp_path: Path, redis_url: str) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with World(time_scale=60, workdir=tmp_path / "world") as world:
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("SLACK_", "GITHUB_", "REDIS_", "PROMOTEBOT_", "KUBE"))}
        env.update({**world.bot_environment, "REDIS_URL": redis_url,
                    "PROMOTEBOT_HOST": "127.0.0.1", "PROMOTEBOT_PORT": str(port),
                    "PROMOTEBOT_LOG_LEVEL": "DEBUG", "GITHUB_WEBHOOK_SECRET": WEBHOOK_SECRET,
                    # the suite's Redis keeps nothing on disk: serve warns and goes on
                    "PROMOTEBOT_REDIS_PERSISTENCE": "optional"})
        proc = subprocess.Popen([sys.executable, "-m", "promotebot.cli", "serve"], env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: proc.poll() is not None or _request(base + "/readyz")[0] == 200,
                     "readyz", timeout=STARTUP)
            assert proc.poll() is None
            world.slack.bot_request_url = f"{base}/slack/events"
            assert world.slack.command(DEV, DEPLOYS, "/promote help")["status"] == 200
            forged = b'{"action": "submitted"}'
            status, _ = _request(base + "/github/webhook", forged, {
                "X-GitHub-Event": "pull_request_review", "X-GitHub-Delivery": "forged-1",
                "X-Hub-Signature-256": "sha256=" + "0" * 64})
            assert status == 401
            status, metrics = _request(base + "/metrics")
            assert status == 200 and b"promotebot_slack_ack_seconds_count 1.0" in metrics
        finally:
            proc.send_signal(signal.SIGTERM)
            _, stderr = proc.communicate(timeout=30)
    assert proc.returncode == 0, stderr[-2000:]
    lines = [json.loads(line) for line in stderr.splitlines()]  # every line is JSON
    assert len(lines) > 20 and {line["level"] for line in lines} >= {"DEBUG", "INFO", "WARNING"}
    for secret in (BOT_TOKEN, SIGNING_SECRET, BOT_GITHUB_TOKEN, WEBHOOK_SECRET,
                   VERIFICATION_TOKEN):
        assert secret not in stderr
    [warning] = [line for line in lines if line["message"].startswith(
        "401 for POST /github/webhook")]
    assert warning["level"] == "WARNING" and warning["request_id"] == "forged-1"
