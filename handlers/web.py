"""The HTTP face of the bot: POST /slack/events to Bolt, GET /healthz and /readyz, and a
waitress server in a background thread for tests and the sandbox.

/healthz is 200 while the process serves; /readyz is 200 only while every readiness probe
(a named callable returning bool: Redis, GitHub, the cluster) passes, else 503 naming the
ones failing. Probes must be cheap; an exception in one counts as failing, never as a crash.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any

import waitress
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

Probe = Callable[[], bool]
EVENTS_PATH = "/slack/events"


class WebApp:
    """A WSGI app: Slack's requests to Bolt, and the two probes Kubernetes asks."""

    def __init__(
        self, bolt: App, readiness: Mapping[str, Probe] | None = None, path: str = EVENTS_PATH
    ):
        self._slack = SlackRequestHandler(bolt, path=path)
        self._readiness = dict(readiness or {})

    def failing(self) -> list[str]:
        failed = []
        for name, probe in self._readiness.items():
            try:
                ok = bool(probe())
            except Exception:
                log.warning("readiness probe %s raised", name, exc_info=True)
                ok = False
            if not ok:
                failed.append(name)
        return failed

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET")
        path = environ.get("PATH_INFO", "")
        if method in ("GET", "HEAD") and path == "/healthz":
            return _json(start_response, "200 OK", {"status": "ok"})
        if method in ("GET", "HEAD") and path == "/readyz":
            failed = self.failing()
            if failed:
                return _json(
                    start_response,
                    "503 Service Unavailable",
                    {"status": "not ready", "failing": failed},
                )
            return _json(start_response, "200 OK", {"status": "ready"})
        return self._slack(environ, start_response)


def _json(start_response: StartResponse, status: str, payload: dict[str, Any]) -> list[bytes]:
    body = json.dumps(payload).encode()
    start_response(
        status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]


class RunningServer:
    """A waitress server run by a daemon thread; `close()` stops it and joins the thread.

    The thread runs waitress's own loop one poll at a time and closes the sockets itself when
    told to stop, so no socket is closed under a poll running in another thread."""

    def __init__(self, server: Any):
        self._server = server
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="promotebot-http", daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.effective_port)

    def _serve(self) -> None:
        server = self._server
        while not self._stop.is_set():
            server.asyncore.loop(
                timeout=0.2, map=server._map, use_poll=server.adj.asyncore_use_poll, count=1
            )
        for dispatcher in list(server._map.values()):
            dispatcher.close()
        server.task_dispatcher.shutdown()

    def close(self) -> None:
        self._stop.set()
        self._server.pull_trigger()  # wake the poll at once
        self._thread.join(timeout=5)


def serve_background(
    wsgi_app: WSGIApplication, host: str = "127.0.0.1", port: int = 0, threads: int = 8
) -> tuple[RunningServer, str]:
    """Serve `wsgi_app` with waitress on (host, port); returns the server and its base URL."""
    server = waitress.create_server(
        wsgi_app, host=host, port=port, threads=threads, clear_untrusted_proxy_headers=True
    )
    running = RunningServer(server)
    return running, f"http://{host}:{running.port}"
