"""The ack benchmark's yardstick: a bare Bolt app whose /promote only acks, on the same waitress
server (handlers/web.py serve_background, 8 threads) the bot uses, as a process of its own.

Run by benchmarks/bench_ack.py: python -m benchmarks.bare_bolt PORT SIGNING_SECRET BOT_TOKEN
SLACK_API_URL (the emulator answers its one auth.test, as it does the bot's)
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

from slack_bolt import Ack, App
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_sdk import WebClient

from handlers.web import serve_background


def main() -> None:
    port, secret, token, api_url = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
    app = App(signing_secret=secret, client=WebClient(token=token, base_url=api_url))

    @app.command("/promote")
    def promote(ack: Ack, body: dict[str, Any]) -> None:
        ack(text=f"ok {body.get('text', '')}", response_type="ephemeral")

    handler = SlackRequestHandler(app)
    server, url = serve_background(handler, "127.0.0.1", port)
    print(f"bare bolt on {url}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    server.close()


if __name__ == "__main__":
    main()
