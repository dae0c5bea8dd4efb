"""The ack benchmark's load generator, as a process of its own: it signs and sends the bodies it
is given, `concurrency` at a time, and prints each request's latency and the rate as JSON.

A process apart from the emulated world: in one process, the Slack emulator's work (the bot's
answers through response_url, which a bare app does not send) took the interpreter from the
load generator's threads, and was counted as the bot's ack latency.

Run by benchmarks/bench_ack.py: python -m benchmarks.ack_load URL SIGNING_SECRET CONCURRENCY
(bodies on stdin, one JSON list of strings)
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor


def send(url: str, secret: str, body: bytes) -> float:
    ts = str(int(time.time()))
    signature = "v0=" + hmac.new(secret.encode(), f"v0:{ts}:".encode() + body,
                                 hashlib.sha256).hexdigest()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/x-www-form-urlencoded", "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{url} answered {response.status}")
    return time.perf_counter() - started


def main() -> None:
    url, secret, concurrency = sys.argv[1], sys.argv[2], int(sys.argv[3])
    bodies = [b.encode() for b in json.load(sys.stdin)]
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        samples = list(pool.map(lambda b: send(url, secret, b), bodies))
    rate = len(bodies) / (time.perf_counter() - started)
    json.dump({"samples": samples, "rate": rate}, sys.stdout)


if __name__ == "__main__":
    main()
