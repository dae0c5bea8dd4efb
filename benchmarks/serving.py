"""`promotebot serve` as its own process for the benchmarks, and what they read of it: its
resources from /proc (RSS, peak RSS, threads, CPU seconds) and its outside calls from
/metrics. Benchmarks measure what production runs: this process, a real redis-server.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.redis_server import free_port

TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Usage:
    rss_mb: float
    peak_rss_mb: float
    threads: int
    cpu_seconds: float


class Served:
    """A running `promotebot serve`; `stop()` sends SIGTERM and waits."""

    def __init__(self, environment: dict[str, str], log_path: Path):
        self.port = free_port()
        base = {k: v for k, v in os.environ.items()
                if not k.startswith(("SLACK_", "GITHUB_", "REDIS_", "PROMOTEBOT_", "KUBE"))}
        env = {**base, **environment, "PROMOTEBOT_HOST": "127.0.0.1",
               "PROMOTEBOT_PORT": str(self.port)}
        self._log = log_path.open("w")
        self.proc = subprocess.Popen([sys.executable, "-m", "promotebot.cli", "serve"], env=env,
                                     stdout=self._log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 120
        while not self._ready():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"promotebot serve did not get ready; see {log_path}")
            time.sleep(0.2)

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/readyz", timeout=5) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError):
            return False

    def usage(self) -> Usage:
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        stat = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(stat[11]) + int(stat[12])) / TICKS  # utime, stime
        return Usage(int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024,
                     int(fields["Threads"]), cpu)

    def calls(self, by_operation: bool = False) -> dict[str, float]:
        """Outside calls so far, per service (promotebot_external_calls_total), or per
        "service operation"."""
        with urllib.request.urlopen(self.url + "/metrics", timeout=10) as response:
            text = response.read().decode()
        totals: dict[str, float] = {}
        for match in re.finditer(r'^promotebot_external_calls_total\{([^}]*)\} (\S+)$', text,
                                 flags=re.MULTILINE):
            service = re.search(r'service="([^"]+)"', match.group(1))
            operation = re.search(r'operation="([^"]+)"', match.group(1))
            if service:
                key = service.group(1)
                if by_operation and operation:
                    key = f"{key} {operation.group(1)}"
                totals[key] = totals.get(key, 0.0) + float(match.group(2))
        return totals

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def percentile(samples: list[float], p: float) -> float:
    """The nearest-rank percentile of the data itself: never past its maximum."""
    ordered = sorted(samples)
    rank = max(1, -(-len(ordered) * p // 100))  # ceil(n * p / 100)
    return ordered[int(rank) - 1]
