"""Figures for N live promotions of N apps at once: `promotebot serve` as its own process on a
real redis-server (AOF on, as in production), PyGithub paced as in production, over a fleet of
N apps in the emulated world (sandbox/fleet.py: one repository with each app's branches, the
Flux simulator at time scale 60, the Slack emulator enforcing Slack's limits).

For N = 1, 10, 50, 200 (or the counts given): N `/promote staging appNNN` at once, gates that
need nobody, then the time until every record is final, the median and slowest promotion,
how many ran at the same time, the bot's RSS (now and peak), threads, CPU seconds and outside
calls per promotion, and how long until every card shows its record's final state, with the
429s Slack answered (each one handled: the card waits and is rendered again).

GitHub asks for one token's writes one at a time, a second apart, and the bot keeps to it: N
promotions cannot finish before (their GitHub writes) x 1 s. The table prints the writes
GitHub received (counted at the emulator) and that floor beside the time taken: a time close
to the floor means nothing but GitHub's pace held the promotions back.

Run: .venv/bin/python -m benchmarks.bench_scale [N ...] [--apps-per-channel 10]
Prints figures; asserts nothing. The emulators share the machine with the bot: on a loaded
machine every figure but the bot's own CPU and calls grows with the load.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from benchmarks.serving import Served
from handlers.messages.card import fallback
from sandbox.bot import SANDBOX_WEBHOOK_SECRET
from sandbox.fleet import DEVELOPER, Fleet, start_fleet
from slackbot.adapters.redis_store import RedisStore, open_redis
from slackbot.models import Promotion
from tests.redis_server import redis_server

DONE_WITHIN = 900.0  # real seconds, plus WRITES_BOUND per promotion; past it: unfinished
WRITES_BOUND = 6.0  # GitHub's paced writes a promotion may need, a second each
GITHUB_WRITE_SPACING = 1.0  # GitHub: one token's writes a second apart (PyGithub's pacing)


def _flux_ready(fleet: Fleet) -> bool:
    for obj in fleet.cluster.store.list("kustomizations")[0]:
        status = obj.get("status") or {}
        ready = [c for c in status.get("conditions", []) if c.get("type") == "Ready"]
        if not ready or ready[0].get("status") != "True":
            return False
    return True


def _records(store: RedisStore, apps: list[str]) -> dict[str, Promotion]:
    found = {}
    for app in apps:
        history = store.history(app, "staging", 1)
        if history:
            found[app] = history[0]
    return found


def _overlap(records: list[Promotion]) -> int:
    """The most records that were live at the same moment."""
    edges = sorted([(r.requested_at, 1) for r in records]
                   + [(r.finished_at or r.requested_at, -1) for r in records])
    live = most = 0
    for _, step in edges:
        live += step
        most = max(most, live)
    return most


def _cards_final(fleet: Fleet, store: RedisStore, records: dict[str, Promotion]) -> bool:
    shown = {}
    for channel in fleet.channels:
        for message in fleet.slack.history(channel):
            shown[message["ts"]] = message.get("text", "")
    for record in records.values():
        raw = store.notice(record.id)
        if raw is None:
            return False
        ts = json.loads(raw)["ts"]
        if shown.get(ts) != fallback(record):
            return False
    return True


def _refusals(fleet: Fleet) -> None:
    """Stop at once when the bot refused the commands (an ephemeral answer and no record), rather
    than wait DONE_WITHIN for records that will never exist."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        answers = [m.get("text", "") for m in fleet.slack.workspace.ephemerals.get(DEVELOPER, [])]
        refused = [a for a in answers if a.startswith(":no_entry:")]
        if refused:
            raise RuntimeError(f"the bot refused {len(refused)} of the commands: {refused[0]}")
        if any(fleet.slack.history(channel) for channel in fleet.channels):
            return  # a card: the bot took a command up
        time.sleep(0.5)


class Writes:
    """The REST writes (not GETs) the GitHub emulator received, in all and per kind
    ("POST pulls": the path with its owner, repository, numbers and branch left out)."""

    def __init__(self) -> None:
        self.count = 0
        self.kinds: dict[str, int] = {}
        self._lock = threading.Lock()

    def __call__(self, method: str, path: str) -> None:
        if method != "GET":
            words = [w for w in path.split("?")[0].split("/")[4:] if w and not w.isdigit()]
            if "heads" in words:  # git/refs/heads/<branch>: the branch is no kind
                words = words[:words.index("heads") + 1]
            kind = f"{method} {'/'.join(words)}"
            with self._lock:
                self.count += 1
                self.kinds[kind] = self.kinds.get(kind, 0) + 1


def run(count: int, apps_per_channel: int, workdir: Path) -> dict[str, object]:
    channels = max(1, -(-count // apps_per_channel))
    with redis_server(persistence=True) as url, start_fleet(count, channels=channels) as fleet:
        began = time.monotonic()
        while not _flux_ready(fleet):
            if time.monotonic() - began > DONE_WITHIN:
                raise RuntimeError("the fleet's Flux never got Ready")
            time.sleep(0.5)
        env = {**fleet.bot_environment, "REDIS_URL": url,
               "GITHUB_WEBHOOK_SECRET": SANDBOX_WEBHOOK_SECRET}
        served = Served(env, workdir / f"serve-{count}.log")
        try:
            fleet.github.hooks.configure(f"{served.url}/github/webhook", SANDBOX_WEBHOOK_SECRET)
            fleet.slack.bot_request_url = f"{served.url}/slack/events"
            store = RedisStore(open_redis(url))
            writes = Writes()
            fleet.github.before_request = writes
            before, calls_before = served.usage(), served.calls(by_operation=True)
            started = time.monotonic()

            def promote(index: int) -> dict[str, object]:
                app = fleet.apps[index]
                channel = fleet.channels[index % len(fleet.channels)]
                return fleet.slack.command(DEVELOPER, channel, f"/promote staging {app}")

            with ThreadPoolExecutor(max_workers=min(count, 50)) as pool:
                replies = list(pool.map(promote, range(count)))
            acked = sum(1 for r in replies if r.get("status") == 200)
            _refusals(fleet)
            peak_threads = 0
            records: dict[str, Promotion] = {}
            within = DONE_WITHIN + WRITES_BOUND * GITHUB_WRITE_SPACING * count
            while time.monotonic() - started < within:
                peak_threads = max(peak_threads, served.usage().threads)
                records = _records(store, fleet.apps)
                if len(records) == count and all(not r.live for r in records.values()):
                    break
                time.sleep(0.5)
            finished = time.monotonic() - started
            written = writes.count
            after, calls_after = served.usage(), served.calls(by_operation=True)
            while time.monotonic() - started < within:
                if _cards_final(fleet, store, records):
                    break
                time.sleep(1.0)
            cards = time.monotonic() - started
            final = _cards_final(fleet, store, records)
            durations = [((r.finished_at or r.requested_at) - r.requested_at).total_seconds()
                         for r in records.values()]
            states: dict[str, int] = {}
            for record in records.values():
                states[record.state.value] = states.get(record.state.value, 0) + 1
            spent = {k: (v - calls_before.get(k, 0.0)) / count for k, v in calls_after.items()}
            calls = {service: sum(v for k, v in spent.items() if k.split()[0] == service)
                     for service in ("github", "kubernetes", "slack", "redis")}
            busiest = sorted(spent.items(), key=lambda kv: -kv[1])[:8]
            return {
                "n": count, "channels": channels, "acked": acked, "states": states,
                "all": finished, "p50": statistics.median(durations) if durations else 0.0,
                "max": max(durations, default=0.0),
                "overlap": _overlap(list(records.values())),
                "rss": after.rss_mb, "peak": after.peak_rss_mb, "threads": peak_threads,
                "cpu": (after.cpu_seconds - before.cpu_seconds) / count,
                "calls": calls, "busiest": busiest, "cards": cards if final else None,
                "writes": written / count, "floor": written * GITHUB_WRITE_SPACING,
                "write_kinds": {k: v / count for k, v in sorted(writes.kinds.items())},
                "refused": dict(fleet.slack.limiter.refused),
            }
        finally:
            served.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_scale")
    parser.add_argument("counts", nargs="*", type=int, default=[1, 10, 50, 200])
    parser.add_argument("--apps-per-channel", type=int, default=10)
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        for count in args.counts:
            row = run(count, args.apps_per_channel, Path(tmp))
            rows.append(row)
            print(f"N={count}: {row}", flush=True)
    print()
    print("| N | final states | all final (s) | GitHub writes / promotion | write floor (s) | "
          "promotion p50 / max (s) | at once | RSS now / peak (MB) | threads | "
          "CPU s / promotion | calls / promotion (GitHub, Kubernetes, Slack, Redis) | "
          "every card final (s) | Slack 429s (all handled) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        calls = r["calls"]
        assert isinstance(calls, dict)
        cards = r["cards"]
        print(f"| {r['n']} | {r['states']} | {r['all']:.1f} | {r['writes']:.1f} | "
              f"{r['floor']:.0f} | {r['p50']:.1f} / {r['max']:.1f} | "
              f"{r['overlap']} | {r['rss']:.0f} / {r['peak']:.0f} | {r['threads']} | "
              f"{r['cpu']:.2f} | {calls['github']:.1f}, {calls['kubernetes']:.1f}, "
              f"{calls['slack']:.1f}, {calls['redis']:.0f} | "
              f"{'not all' if cards is None else f'{cards:.0f}'} | {r['refused'] or 0} |")
    print("\nThe bot's most frequent outside calls, per promotion:")
    for r in rows:
        busiest = r["busiest"]
        assert isinstance(busiest, list)
        print(f"- N={r['n']}: " + ", ".join(f"{op} {n:.1f}" for op, n in busiest))
    print("\nGitHub writes per promotion, by kind:")
    for r in rows:
        kinds = r["write_kinds"]
        assert isinstance(kinds, dict)
        print(f"- N={r['n']}: " + ", ".join(f"{k} {n:.1f}" for k, n in kinds.items()))


if __name__ == "__main__":
    main()
