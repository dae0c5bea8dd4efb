"""The HTTP face of the bot: POST /slack/events to Bolt, POST /github/webhook, GET /healthz,
/readyz and /metrics, and a waitress server in a background thread for tests and the sandbox.

/healthz is 200 while the process serves; /readyz is 200 only while every readiness probe
(a named callable returning bool: Redis, GitHub, the cluster) passes, else 503 naming the
ones failing. Probes must be cheap; an exception in one counts as failing, never as a crash.
Every Slack and GitHub request runs under a request id (slackbot.logs); a 401 is logged as a
WARNING. GitHub deliveries are verified before anything else is read or written.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import waitress
from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from slackbot import logs, webhooks
from slackbot.metrics import Metrics

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

Probe = Callable[[], bool]
EVENTS_PATH = "/slack/events"
WEBHOOK_PATH = "/github/webhook"
METRICS_PATH = "/metrics"
MAX_WEBHOOK_BYTES = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB
WEBHOOKS_OFF = (
    "GitHub webhooks are off: GITHUB_WEBHOOK_SECRET is not set, so no delivery could be "
    "verified. promotebot polls GitHub instead; set the secret here and on the webhook to use them."
)


class WebApp:
    """A WSGI app: Slack's requests to Bolt, GitHub's webhook deliveries, /metrics, and the
    two probes Kubernetes asks.

    Without `webhook_secret`, POST /github/webhook answers 404 (the endpoint is not configured:
    a permanent condition, not a passing outage, so not 503); without `metrics`, /metrics is
    404 too."""

    def __init__(
        self,
        bolt: App,
        readiness: Mapping[str, Probe] | None = None,
        path: str = EVENTS_PATH,
        *,
        webhook_secret: str | None = None,
        deliveries: webhooks.Deliveries | None = None,
        metrics: Metrics | None = None,
    ):
        self._slack = SlackRequestHandler(bolt, path=path)
        self._slack_path = path
        self._readiness = dict(readiness or {})
        self._webhook_secret = webhook_secret or None
        self._deliveries = deliveries
        self._metrics = metrics

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
        if method in ("GET", "HEAD") and path == METRICS_PATH and self._metrics is not None:
            body, content_type = self._metrics.render()
            start_response("200 OK", [("Content-Type", content_type),
                                      ("Content-Length", str(len(body)))])
            return [body]
        if path == WEBHOOK_PATH:
            return self._github(environ, start_response)
        if method == "POST" and path == self._slack_path:
            return self._slack_events(environ, start_response)
        return self._slack(environ, start_response)

    # -- Slack -------------------------------------------------------------------------------

    def _slack_events(self, environ: WSGIEnvironment,
                      start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        body = _read_body(environ, limit=None)
        environ["wsgi.input"] = io.BytesIO(body)
        status: list[str] = []

        def recording(status_line: str, headers: list[tuple[str, str]],
                      exc_info: Any = None) -> Callable[[bytes], object]:
            status.append(status_line)
            return start_response(status_line, headers, exc_info)

        with logs.scope(request=_slack_request_id(body) or logs.new_request_id()):
            try:
                return self._slack(environ, recording)
            finally:
                if self._metrics is not None:
                    self._metrics.slack_ack_seconds.observe(time.perf_counter() - started)
                if status and status[0].startswith("401"):
                    log.warning(
                        "401 for POST %s: the request signature did not verify (a wrong "
                        "SLACK_SIGNING_SECRET, or this host's clock far off)", self._slack_path)

    # -- GitHub ------------------------------------------------------------------------------

    def _github(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        delivery = (environ.get("HTTP_X_GITHUB_DELIVERY") or "").strip()
        event = (environ.get("HTTP_X_GITHUB_EVENT") or "").strip()
        with logs.scope(request=delivery or logs.new_request_id()):
            status, payload, outcome = self._github_delivery(environ, delivery, event)
            if self._metrics is not None and outcome:
                label = event if event in webhooks.EVENTS or not event else "other"
                self._metrics.github_webhooks.labels(label or "none", outcome).inc()
            if status.startswith("204"):
                start_response(status, [("Content-Length", "0")])
                return []
            return _json(start_response, status, payload)

    def _github_delivery(
        self, environ: WSGIEnvironment, delivery: str, event: str
    ) -> tuple[str, dict[str, Any], str]:
        if environ.get("REQUEST_METHOD") != "POST":
            return "405 Method Not Allowed", {"error": "POST only"}, ""
        secret = self._webhook_secret
        if secret is None or self._deliveries is None:
            return "404 Not Found", {"error": WEBHOOKS_OFF}, ""
        try:
            body = _read_body(environ, limit=MAX_WEBHOOK_BYTES)
        except _TooLarge:
            return "413 Payload Too Large", {"error": "payload too large"}, "invalid"
        if not webhooks.verify(secret, body, environ.get("HTTP_X_HUB_SIGNATURE_256")):
            why = "missing" if not environ.get("HTTP_X_HUB_SIGNATURE_256") else "does not match"
            log.warning("401 for POST %s: the X-Hub-Signature-256 signature is %s (event %s, "
                        "delivery %s); is GITHUB_WEBHOOK_SECRET the webhook's secret?",
                        WEBHOOK_PATH, why, event or "-", delivery or "-")
            return "401 Unauthorized", {"error": "invalid signature"}, "unauthorized"
        if event not in webhooks.EVENTS:
            log.info("github %s delivery ignored", event or "(no event)")
            return "204 No Content", {}, "ignored"
        if not delivery:
            return "400 Bad Request", {"error": "X-GitHub-Delivery is missing"}, "invalid"
        try:
            change = webhooks.parse(event, json.loads(body))
        except (ValueError, webhooks.PayloadError) as exc:
            log.warning("github %s delivery %s: unreadable payload (%s)", event, delivery, exc)
            return "400 Bad Request", {"error": "unreadable payload"}, "invalid"
        if change is None:
            return "204 No Content", {}, "ignored"
        try:
            accepted = self._deliveries.accept(delivery, change)
        except Exception:
            log.exception("github %s delivery %s could not be accepted", event, delivery)
            return "503 Service Unavailable", {"error": "try again"}, "failed"
        if not accepted:
            return "200 OK", {"status": "already handled"}, "repeated"
        return "202 Accepted", {"status": "accepted"}, "accepted"


class _TooLarge(Exception):
    pass


def _read_body(environ: WSGIEnvironment, limit: int | None) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if limit is not None and length > limit:
        raise _TooLarge
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _slack_request_id(body: bytes) -> str | None:
    """Slack's own id of the request: the trigger_id (commands, interactions), an action's
    action_ts, or the Events API's event_id."""
    try:
        text = body.decode("utf-8")
        if text.lstrip().startswith("{"):
            data = json.loads(text)
        else:
            form = parse_qs(text)
            data = json.loads(form["payload"][0]) if "payload" in form else {
                k: v[0] for k, v in form.items()}
    except (ValueError, UnicodeDecodeError, KeyError, IndexError):
        return None
    if not isinstance(data, dict):
        return None
    for key in ("trigger_id", "event_id"):
        if isinstance(data.get(key), str):
            return str(data[key])
    actions = data.get("actions")
    if isinstance(actions, list) and actions and isinstance(actions[0], dict):
        ts = actions[0].get("action_ts")
        return str(ts) if ts else None
    return None


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
