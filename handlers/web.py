"""The HTTP face of the bot: POST /slack/events to Bolt, POST /github/webhook, GET /healthz,
/readyz and /metrics, and a waitress server in a background thread for tests and the sandbox.

/healthz is 200 while the process serves; /readyz is 200 only while every readiness probe
(a named callable returning bool: Redis, GitHub, each cluster) passes, else 503 naming the
ones failing. The probes run at once, each in a thread of its own, and /readyz answers within
its deadline (1.5 s) whatever hangs behind it: a probe that has not answered by then fails,
and is not started again while it still hangs. An exception in one counts as failing, never
as a crash.
Junk is refused before any work, never with a 5xx: a body over the limit is a 413, a bad
signature or timestamp a 401 (logged as a WARNING) before the body is parsed, a body Bolt
could not read or whose response_url is not Slack's a 400. Every Slack and GitHub request runs
under a request id (slackbot.logs). (About 400 lines: the server, the routes and the junk
checks are one request's path, read in one place.)
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as wait_all
from contextlib import nullcontext
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import waitress
from slack_bolt import App, BoltRequest, BoltResponse
from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
from slack_bolt.context import BoltContext
from slack_bolt.request.internals import build_context

from handlers import envelopes, signing
from handlers.response_urls import DirectRespond, ResponseUrls
from slackbot import logs, webhooks
from slackbot.metrics import Metrics
from slackbot.precedence import Precedence

if TYPE_CHECKING:
    from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger(__name__)

Probe = Callable[[], bool]
EVENTS_PATH = "/slack/events"
WEBHOOK_PATH = "/github/webhook"
METRICS_PATH = "/metrics"
# Slack's payloads are a few KB and the GitHub events we follow tens of KB; a 48 MB body once
# took 15 s and 100 MB of memory. waitress refuses twice this before reading it.
MAX_BODY_BYTES = 1024 * 1024
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
NO_RETRY = ("X-Slack-No-Retry", "1")  # a refused body fails the same way every time
READINESS_DEADLINE = 1.5  # seconds: /readyz answers within 2 s (the chart's probe waits 5)
WEBHOOKS_OFF = (
    "GitHub webhooks are off: GITHUB_WEBHOOK_SECRET is not set, so no delivery could be "
    "verified. promotebot polls GitHub instead; set the secret here and on the webhook to use them."
)


class WebApp:
    """A WSGI app: Slack's requests to Bolt, GitHub's webhook deliveries, /metrics, and the
    two probes Kubernetes asks.

    Slack's requests are checked with `signing_secret` (Bolt checks them again); replies go
    only to the response URLs `response_urls` allows. Without `webhook_secret`, POST
    /github/webhook answers 404 (the endpoint is not configured: a permanent condition, not a
    passing outage, so not 503); without `metrics`, /metrics is 404 too."""

    def __init__(
        self,
        bolt: App,
        readiness: Mapping[str, Probe] | None = None,
        path: str = EVENTS_PATH,
        *,
        signing_secret: str,
        response_urls: ResponseUrls | None = None,
        webhook_secret: str | None = None,
        deliveries: webhooks.Deliveries | None = None,
        metrics: Metrics | None = None,
        max_body_bytes: int = MAX_BODY_BYTES,
        clock: Callable[[], float] = time.time,
        readiness_deadline: float = READINESS_DEADLINE,
        precedence: Precedence | None = None,
    ):
        self.bolt = bolt
        self._precedence = precedence
        self._slack_path = path
        self._signing_secret = signing_secret
        self._response_urls = response_urls or ResponseUrls()
        self._readiness = dict(readiness or {})
        self._webhook_secret = webhook_secret or None
        self._deliveries = deliveries
        self._metrics = metrics
        self.max_body_bytes = max_body_bytes
        self._clock = clock
        self._deadline = readiness_deadline
        self._probing = ThreadPoolExecutor(max(1, 2 * len(self._readiness)),
                                           thread_name_prefix="readyz")
        self._running: dict[str, Future[bool]] = {}
        self._probe_lock = threading.Lock()

    def failing(self) -> list[str]:
        """The probes that fail, or do not answer within the deadline, in their order."""
        with self._probe_lock:
            for name, probe in self._readiness.items():
                if name not in self._running or self._running[name].done():
                    self._running[name] = self._probing.submit(_probe, name, probe)
            running = dict(self._running)
        wait_all(running.values(), timeout=self._deadline)
        failed = []
        for name, future in running.items():
            if not future.done():
                log.warning("readiness probe %s did not answer within %.1f s", name,
                            self._deadline)
                failed.append(name)
            elif not future.result():
                failed.append(name)
        return failed

    def close(self) -> None:
        """Stop the probes' threads (a probe still hanging ends on its own timeout)."""
        self._probing.shutdown(wait=False, cancel_futures=True)

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
        return _json(start_response, "404 Not Found", {"error": "not found"})

    # -- Slack -------------------------------------------------------------------------------

    def _slack_events(self, environ: WSGIEnvironment,
                      start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        urgent = self._precedence.urgent() if self._precedence is not None else nullcontext()
        try:
            with urgent, logs.scope(request=logs.new_request_id()):
                status, headers, body = self._slack_answer(environ)
        finally:
            if self._metrics is not None:
                self._metrics.slack_ack_seconds.observe(time.perf_counter() - started)
        start_response(status, [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def _slack_answer(self, environ: WSGIEnvironment) -> tuple[str, list[tuple[str, str]], bytes]:
        """Refuse junk in order of cost (size, signature, shape, response_url), then Bolt."""
        try:
            raw = _read_body(environ, self.max_body_bytes)
        except _TooLarge:
            log.warning("413 for POST %s: a body over %d bytes", self._slack_path,
                        self.max_body_bytes)
            return _refusal("413 Payload Too Large",
                            f"the body is over {self.max_body_bytes} bytes")
        verdict = signing.verify(
            self._signing_secret, raw, environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP"),
            environ.get("HTTP_X_SLACK_SIGNATURE"), self._clock())
        if verdict is not signing.Verdict.OK:
            log.warning("401 for POST %s: %s (a wrong SLACK_SIGNING_SECRET, or this host's "
                        "clock far off?)", self._slack_path, verdict.value)
            return "401 Unauthorized", _JSON, b'{"error": "invalid request"}'
        request, why = _bolt_request(raw, environ)
        if request is None:
            log.warning("400 for POST %s: a signed body that cannot be read (%s)",
                        self._slack_path, why)
            return _refusal("400 Bad Request", "the body cannot be read")
        refused = self._response_urls.refused(request.body)
        if refused:
            log.warning("400 for POST %s: a response_url on a host replies never go to (%s); "
                        "SLACK_RESPONSE_URL_HOSTS lists other hosts", self._slack_path,
                        ", ".join(refused))
            return _refusal("400 Bad Request", "response_url is not Slack's")
        request.context["respond"] = DirectRespond(
            response_url=request.context.response_url, rule=self._response_urls)
        with logs.scope(request=_slack_request_id(request.body)):
            try:
                answer = self.bolt.dispatch(request)
            except Exception:  # Bolt's own error handling failed: a bug, never the body's fault
                ref = logs.new_request_id()[:8]
                log.exception("Bolt failed on POST %s (reference %s)", self._slack_path, ref)
                return "500 Internal Server Error", _JSON, json.dumps(
                    {"error": f"internal error (reference {ref})"}).encode()
        return _bolt_answer(answer)

    # -- GitHub ------------------------------------------------------------------------------

    def _github(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        delivery = (environ.get("HTTP_X_GITHUB_DELIVERY") or "").strip()
        event = (environ.get("HTTP_X_GITHUB_EVENT") or "").strip()
        if not REQUEST_ID.fullmatch(delivery):
            delivery = ""  # GitHub's are GUIDs: anything else names nothing
        if not REQUEST_ID.fullmatch(event):
            event = ""
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
            body = _read_body(environ, limit=self.max_body_bytes)
        except _TooLarge:
            log.warning("413 for POST %s: a body over %d bytes (event %s, delivery %s)",
                        WEBHOOK_PATH, self.max_body_bytes, event or "-", delivery or "-")
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
            missing = {"error": "X-GitHub-Delivery is missing or not an id"}
            return "400 Bad Request", missing, "invalid"
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


def _probe(name: str, probe: Probe) -> bool:
    try:
        return bool(probe())
    except Exception:
        log.warning("readiness probe %s raised", name, exc_info=True)
        return False


class _TooLarge(Exception):
    pass


def _read_body(environ: WSGIEnvironment, limit: int) -> bytes:
    """The body, never more than `limit` bytes (waitress has already read a Content-Length
    body, or de-chunked one and set its length)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > limit:
        raise _TooLarge
    return environ["wsgi.input"].read(length) if length > 0 else b""


_JSON = [("Content-Type", "application/json")]


def _refusal(status: str, error: str) -> tuple[str, list[tuple[str, str]], bytes]:
    return status, [*_JSON, NO_RETRY], json.dumps({"error": error}).encode()


def _bolt_request(raw: bytes, environ: WSGIEnvironment) -> tuple[BoltRequest | None, str]:
    """The request as Bolt reads it, or None and why: a body that is not UTF-8, that Bolt's
    own parser fails on, or whose shape would break Bolt or a listener (handlers.envelopes)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None, "not UTF-8"
    try:
        request = BoltRequest(body=text, query=environ.get("QUERY_STRING", ""),
                              headers=WsgiHttpRequest(environ).get_headers())
    except Exception as exc:  # Bolt's parser and context builder, on any junk
        return None, f"Bolt cannot parse it: {type(exc).__name__}"
    form = _form_fields(text, request.content_type)
    if form is not None and "payload" not in form and request.body != form:
        # Bolt takes any form body with "payload" anywhere in it (a slash command's text, a
        # freeze reason) for an interactive payload and reads it as {}: read it as the form
        request.body = form
        request.context = build_context(BoltContext({}), form)
    problem = envelopes.problem(request.body)
    if problem is not None:
        return None, problem
    return request, ""


def _form_fields(text: str, content_type: str | None) -> dict[str, str] | None:
    """The fields of a form-encoded body (a slash command's), None for any other body."""
    if text.startswith("{") or (content_type or "").split(";")[0].strip() == "application/json":
        return None
    return dict(parse_qsl(text, keep_blank_values=True))


def _bolt_answer(answer: BoltResponse) -> tuple[str, list[tuple[str, str]], bytes]:
    try:
        status = HTTPStatus(answer.status)
        line = f"{status.value} {status.phrase}"
    except ValueError:
        line = f"{answer.status} Unknown"
    headers = [(k, v) for k, values in answer.headers.items() if k.lower() != "content-length"
               for v in values]
    return line, headers, answer.body.encode("utf-8")


def _slack_request_id(body: Mapping[str, Any]) -> str | None:
    """Slack's own id of the request: the trigger_id (commands, interactions), an action's
    action_ts, or the Events API's event_id; None when it is not id-shaped (a log line must
    not carry what a request chose to put there)."""
    found: object = None
    for key in ("trigger_id", "event_id"):
        if isinstance(body.get(key), str):
            found = body[key]
            break
    else:
        actions = body.get("actions")
        if isinstance(actions, list) and actions and isinstance(actions[0], dict):
            found = actions[0].get("action_ts")
    if isinstance(found, str) and REQUEST_ID.fullmatch(found):
        return found
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
    told to stop, so no socket is closed under a poll running in another thread. `close()`
    wakes the poll through waitress's trigger (a pipe) while holding `_closing`, and the thread
    closes the pipe only under it: the wake-up is never written to a closed descriptor, or to
    whatever file took its number since."""

    def __init__(self, server: Any):
        self._server = server
        self._stop = threading.Event()
        self._closing = threading.Lock()
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
        with self._closing:
            for dispatcher in list(server._map.values()):
                dispatcher.close()
        server.task_dispatcher.shutdown()

    def close(self) -> None:
        with self._closing:
            if not self._stop.is_set():
                self._stop.set()
                self._server.pull_trigger()  # wake the poll at once
        self._thread.join(timeout=5)


def serve_background(
    wsgi_app: WSGIApplication, host: str = "127.0.0.1", port: int = 0, threads: int = 8,
    max_request_bytes: int = 2 * MAX_BODY_BYTES,
) -> tuple[RunningServer, str]:
    """Serve `wsgi_app` with waitress on (host, port); returns the server and its base URL.
    waitress answers 413 itself, before reading it, to a body of `max_request_bytes` or more
    (the app answers a smaller one over its own limit, with a JSON 413 naming the limit)."""
    server = waitress.create_server(
        wsgi_app, host=host, port=port, threads=threads, clear_untrusted_proxy_headers=True,
        max_request_body_size=max_request_bytes,
    )
    running = RunningServer(server)
    return running, f"http://{host}:{running.port}"
