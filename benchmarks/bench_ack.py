"""Ack latency of `promotebot serve` (its own process, a real redis-server with AOF, the
emulated world behind it) against a bare Bolt app that only acks, on the same waitress
server: signed `/promote status` slash commands from distinct users at 1, 10 and 50 at once.
Prints p50 and p99 (nearest rank, from the samples themselves), throughput, and the ratios.
The load comes from a process of its own (benchmarks/ack_load.py), apart from the emulators.

Run: .venv/bin/python -m benchmarks.bench_ack [requests per level] [--one-core]
(default 300). `--one-core` pins both servers to one CPU, as a pod with one exclusive core
(the kubelet's static CPU manager) runs: CPython's threads then do not hand the interpreter
lock from core to core. Prints figures; asserts nothing. The load generator shares the machine
with both servers.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlencode

from benchmarks.serving import Served, percentile
from sandbox.world import DEPLOYS, SIGNING_SECRET, World
from tests.redis_server import free_port, redis_server

LEVELS = (1, 10, 50)


def _body(world: World, user: str) -> bytes:
    url_id = world.slack.workspace.issue_response_url(user, DEPLOYS, None, False)
    return urlencode({
        "token": "x", "team_id": "T0SANDBOX", "team_domain": "sandbox", "channel_id": DEPLOYS,
        "channel_name": "deploys", "user_id": user, "user_name": user.lower(),
        "command": "/promote", "text": "status", "api_app_id": "A0SANDBOX",
        "is_enterprise_install": "false",
        "response_url": f"{world.slack.url}/response/{url_id}",
        "trigger_id": world.slack.workspace.issue_trigger(user),
    }).encode()


def _level(world: World, url: str, concurrency: int, count: int) -> tuple[list[float], float]:
    bodies = [_body(world, f"U0BENCH{i % 50:02d}").decode() for i in range(count)]
    load = subprocess.run([sys.executable, "-m", "benchmarks.ack_load", url, SIGNING_SECRET,
                           str(concurrency)], input=json.dumps(bodies), capture_output=True,
                          text=True, check=True, timeout=600)
    result = json.loads(load.stdout)
    return [float(s) for s in result["samples"]], float(result["rate"])


def _one_core(pid: int, cpu: int) -> None:
    """Every thread of `pid` on `cpu` (the threads it starts later inherit it)."""
    for task in Path(f"/proc/{pid}/task").iterdir():
        os.sched_setaffinity(int(task.name), {cpu})


def main() -> None:
    one_core = "--one-core" in sys.argv[1:]
    args = [a for a in sys.argv[1:] if a != "--one-core"]
    count = int(args[0]) if args else 300
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-ack-") as tmp, \
            World(time_scale=60, workdir=Path(tmp) / "world") as world, \
            redis_server(persistence=True) as redis_url:
        bare_port = free_port()
        bare = subprocess.Popen([sys.executable, "-m", "benchmarks.bare_bolt", str(bare_port),
                                 SIGNING_SECRET, world.bot_environment["SLACK_BOT_TOKEN"],
                                 world.slack.api_url], stdout=subprocess.PIPE, text=True)
        served = Served({**world.bot_environment, "REDIS_URL": redis_url},
                        Path(tmp) / "serve.log")
        try:
            assert bare.stdout is not None
            bare.stdout.readline()  # "bare bolt on ...": listening
            if one_core:
                cpu = max(os.sched_getaffinity(0))
                _one_core(bare.pid, cpu)
                _one_core(served.proc.pid, cpu)
            world.slack.bot_request_url = f"{served.url}/slack/events"
            targets = {"bare": f"http://127.0.0.1:{bare_port}/slack/events",
                       "bot": f"{served.url}/slack/events"}
            for url in targets.values():  # warm both up (imports, first connections)
                _level(world, url, 5, 20)
            for concurrency in LEVELS:
                bare_s, bare_rate = _level(world, targets["bare"], concurrency, count)
                bot_s, bot_rate = _level(world, targets["bot"], concurrency, count)
                rows.append((concurrency, bare_s, bare_rate, bot_s, bot_rate))
                print(f"level {concurrency} done", flush=True)
        finally:
            served.stop()
            bare.terminate()
            bare.wait(timeout=30)
    pinned = ", both servers on one core" if one_core else ""
    print(f"\n{count} signed /promote status per level, distinct users{pinned}\n")
    print("| at once | bare p50 / p99 (ms) | bot p50 / p99 (ms) | p50 ratio | p99 ratio | "
          "bare / bot req/s | throughput ratio |")
    print("|---|---|---|---|---|---|---|")
    for concurrency, bare_s, bare_rate, bot_s, bot_rate in rows:
        b50, b99 = percentile(bare_s, 50) * 1000, percentile(bare_s, 99) * 1000
        p50, p99 = percentile(bot_s, 50) * 1000, percentile(bot_s, 99) * 1000
        print(f"| {concurrency} | {b50:.1f} / {b99:.1f} | {p50:.1f} / {p99:.1f} | "
              f"{p50 / b50:.2f} | {p99 / b99:.2f} | {bare_rate:.0f} / {bot_rate:.0f} | "
              f"{bot_rate / bare_rate:.2f} |")


if __name__ == "__main__":
    main()
