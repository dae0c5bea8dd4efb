"""`promotebot serve` as a real process against the emulated world: probes, a slash command,
a clean stop on SIGTERM; and a bad environment refused at start-up with every problem named."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

from sandbox.world import World
from tests.e2e.conftest import DEV, wait_for
from tests.redis_server import free_port, redis_server
from tests.waiting import STARTUP


def _env(extra: dict[str, str]) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items()
            if not k.startswith(("SLACK_", "GITHUB_", "REDIS_", "PROMOTEBOT_", "KUBE"))}
    return {**base, **extra}


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except urllib.error.URLError:
        return 0, b"not listening yet"


def test_serve_answers_probes_and_slack_then_stops_on_sigterm(tmp_path: Path,
                                                              redis_url: str) -> None:
    port = free_port()
    with World(time_scale=60, workdir=tmp_path / "world") as world:
        proc = subprocess.Popen(
            [sys.executable, "-m", "promotebot.cli", "serve"],
            env=_env({**world.bot_environment, "REDIS_URL": redis_url,
                      "PROMOTEBOT_HOST": "127.0.0.1", "PROMOTEBOT_PORT": str(port),
                      # the suite's Redis keeps nothing on disk: serve warns and goes on
                      "PROMOTEBOT_REDIS_PERSISTENCE": "optional"}),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(lambda: _get(base + "/readyz")[0] == 200
                     if proc.poll() is None else pytest_fail(proc), "readyz", timeout=STARTUP)
            assert _get(base + "/healthz")[0] == 200
            world.slack.bot_request_url = f"{base}/slack/events"
            reply = world.slack.command(DEV, "C0DEPLOYS", "/promote status")
            assert reply["status"] == 200
            wait_for(lambda: any("Status of myapp" in m.get("text", "")
                                 for m in world.slack.ephemerals(DEV)), "the status answer")
            world.cluster.stop()  # the cluster stops answering: not ready any more
            _status, body = wait_for(lambda: (r := _get(base + "/readyz"))[0] == 503 and r,
                                    "readyz to turn 503", timeout=STARTUP)
            assert b"kubernetes" in body and b"redis" not in body
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=20)
            assert proc.returncode == 0, err[-3000:]
            assert "promotebot stopped" in out
            # the start-up line says what a waiting promotion costs in GitHub requests
            budget = re.search(r"^github: (webhooks configured|no webhooks).* every (\d+)s "
                               r"\(PROMOTEBOT_\w+\): up to (\d+) requests an hour each",
                               out, flags=re.MULTILINE)
            assert budget is not None, out[-3000:]
            every, per_hour = int(budget[2]), int(budget[3])
            assert per_hour == -(-3600 // every) * 4  # the pull, statuses, checks, reviews
            for secret in (world.bot_environment["SLACK_BOT_TOKEN"],
                           world.bot_environment["GITHUB_TOKEN"], "sandbox-signing-secret"):
                assert secret not in out + err
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def pytest_fail(proc: subprocess.Popen[str]) -> bool:
    out, err = proc.communicate()
    raise AssertionError(f"serve exited {proc.returncode}: {out}\n{err}")


def test_serve_refuses_a_bad_environment_naming_every_problem() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "promotebot.cli", "serve"],
        env=_env({"SLACK_BOT_TOKEN": "not-a-bot-token", "PROMOTEBOT_PORT": "99999"}),
        capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    problems = re.findall(r"^\s+(\w+):", done.stderr, flags=re.MULTILINE)
    assert {"SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET", "PROMOTEBOT_PORT"} <= set(problems)
    assert "GITHUB_TOKEN" in done.stderr
    assert "not-a-bot-token" not in done.stderr


def _serve_until_ready(env: dict[str, str], port: int) -> str:
    """Start serve, wait for /readyz, stop it with SIGTERM; its log."""
    proc = subprocess.Popen([sys.executable, "-m", "promotebot.cli", "serve"], env=_env(env),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        wait_for(lambda: _get(f"http://127.0.0.1:{port}/readyz")[0] == 200
                 if proc.poll() is None else pytest_fail(proc), "readyz", timeout=STARTUP)
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=20)
        assert proc.returncode == 0, out[-3000:]
        return out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_serve_refuses_a_redis_that_keeps_nothing_on_disk(tmp_path: Path,
                                                          redis_url: str) -> None:
    with World(time_scale=60, workdir=tmp_path / "world") as world:
        done = subprocess.run(
            [sys.executable, "-m", "promotebot.cli", "serve"],
            env=_env({**world.bot_environment, "REDIS_URL": redis_url,
                      "PROMOTEBOT_HOST": "127.0.0.1", "PROMOTEBOT_PORT": str(free_port())}),
            capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "Redis keeps nothing on disk" in done.stderr
    assert "PROMOTEBOT_REDIS_PERSISTENCE=optional" in done.stderr


def test_serve_starts_on_a_redis_with_aof_and_warns_on_one_that_hides_its_config(
        tmp_path: Path) -> None:
    with World(time_scale=60, workdir=tmp_path / "world") as world:
        with redis_server(persistence=True) as url:
            port = free_port()
            out = _serve_until_ready({**world.bot_environment, "REDIS_URL": url,
                                      "PROMOTEBOT_HOST": "127.0.0.1",
                                      "PROMOTEBOT_PORT": str(port)}, port)
            assert "persist" not in out  # nothing to warn about
        with redis_server(extra=("--rename-command", "CONFIG", "")) as url:  # a managed Redis
            port = free_port()
            out = _serve_until_ready({**world.bot_environment, "REDIS_URL": url,
                                      "PROMOTEBOT_HOST": "127.0.0.1",
                                      "PROMOTEBOT_PORT": str(port)}, port)
            assert "refused CONFIG" in out and "cannot be checked" in out


def test_serve_answers_commands_while_redis_is_away_and_goes_on_when_it_returns(
        tmp_path: Path) -> None:
    """Redis stops under a running serve: a command is acked (200, never a 500) with the
    sentence that nothing was changed, /readyz names redis; Redis back on its port, the same
    command is answered as usual."""
    port, redis_port = free_port(), free_port()
    with World(time_scale=60, workdir=tmp_path / "world") as world:
        env = {**world.bot_environment, "PROMOTEBOT_HOST": "127.0.0.1",
               "PROMOTEBOT_PORT": str(port)}
        base = f"http://127.0.0.1:{port}"
        with redis_server(persistence=True, port=redis_port) as url:
            proc = subprocess.Popen([sys.executable, "-m", "promotebot.cli", "serve"],
                                    env=_env({**env, "REDIS_URL": url}),
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            try:
                wait_for(lambda: _get(base + "/readyz")[0] == 200
                         if proc.poll() is None else pytest_fail(proc), "readyz", timeout=STARTUP)
            except BaseException:
                proc.kill()
                proc.wait()
                raise
        try:  # Redis is gone now
            world.slack.bot_request_url = f"{base}/slack/events"
            reply = world.slack.command(DEV, "C0DEPLOYS", "/promote status")
            assert reply["status"] == 200, reply
            said = wait_for(lambda: next((m.get("text", "") for m in world.slack.ephemerals(DEV)
                                          if "cannot reach its database" in m.get("text", "")),
                                         None), "the database-unavailable answer")
            assert "nothing was changed" in said
            _status, body = wait_for(lambda: (r := _get(base + "/readyz"))[0] == 503 and r,
                                     "readyz to name redis")
            assert b"redis" in body
            with redis_server(persistence=True, port=redis_port):
                wait_for(lambda: _get(base + "/readyz")[0] == 200, "readyz again", timeout=STARTUP)
                before = len(world.slack.ephemerals(DEV))
                assert world.slack.command(DEV, "C0DEPLOYS", "/promote status")["status"] == 200
                wait_for(lambda: any("Status of myapp" in m.get("text", "")
                                     for m in world.slack.ephemerals(DEV)[before:]),
                         "the status answer once Redis is back")
                proc.send_signal(signal.SIGTERM)
                out, _ = proc.communicate(timeout=20)
            assert proc.returncode == 0, out[-3000:]
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
