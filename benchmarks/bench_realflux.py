"""Figures for the real-Flux harness: the build step (cold when PROMOTEBOT_CACHE points at an
empty directory, warm otherwise) and the start-up of the whole harness, step by step, up to
every env Ready at the seed.

Run: .venv/bin/python -m benchmarks.bench_realflux   (prints figures; asserts nothing)
Cold: PROMOTEBOT_CACHE=$(mktemp -d) .venv/bin/python -m benchmarks.bench_realflux
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from tests.realflux import build
from tests.realflux.harness import start_harness


def main() -> None:
    started = time.monotonic()
    build.build_all()
    print(f"build step: {time.monotonic() - started:.1f}s (cache: {build.cache_dir()})")
    with tempfile.TemporaryDirectory(prefix="promotebot-bench-realflux-") as tmp:
        started = time.monotonic()
        harness = start_harness(Path(tmp) / "run")
        try:
            print(f"harness start-up: {time.monotonic() - started:.1f}s")
            for step, seconds in harness.timings.items():
                print(f"  {step}: {seconds:.1f}s")
        finally:
            harness.stop()


if __name__ == "__main__":
    main()
