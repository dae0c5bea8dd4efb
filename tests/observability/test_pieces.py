"""The observability pieces on their own: webhook signatures and parsing, the webhook route's
answers, redaction and JSON lines, log context across threads, the metrics notifier and the
counting proxy. Fakes here are tiny classes of our own ports, never of an SDK."""

from __future__ import annotations

import io
import json
import logging
import re
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from wsgiref.util import setup_testing_defaults

import pytest
from prometheus_client.parser import text_string_to_metric_families
from slack_bolt import App

from handlers.web import WebApp
from slackbot import logs, webhooks
from slackbot.errors import ForgeError, NotAllowed
from slackbot.events import FACTS, Event, EventKind
from slackbot.metrics import CountingProxy, Metrics, MetricsNotifier
from slackbot.models import Kind, Promotion, State
from slackbot.reasons import Code, Reason
from slackbot.settings import MASK, load_settings

SECRET = "It's a Secret to Everybody"
T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)

# -- signatures and payloads ---------------------------------------------------------------


def test_signature_matches_githubs_documented_vector() -> None:
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert webhooks.signature(SECRET, b"Hello, World!") == expected
    assert webhooks.verify(SECRET, b"Hello, World!", expected)


@pytest.mark.parametrize("header", [None, "", "sha256=", "sha1=abc",
                                    "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f43",
                                    "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"])
def test_verify_refuses_missing_short_or_unprefixed_signatures(header: str | None) -> None:
    assert not webhooks.verify(SECRET, b"Hello, World!", header)


def test_verify_refuses_an_empty_secret() -> None:
    assert not webhooks.verify("", b"x", webhooks.signature("", b"x"))


REPO = {"full_name": "acme/myapp"}


def test_parse_reads_pull_numbers_shas_and_branches_of_each_event() -> None:
    review = webhooks.parse("pull_request_review", {
        "action": "submitted", "repository": REPO, "review": {"state": "approved"},
        "pull_request": {"number": 7, "head": {"sha": "a" * 40, "ref": "dev"}}})
    assert review is not None
    assert (review.pulls, review.shas, review.branches) == ({7}, {"a" * 40}, {"dev"})
    run = webhooks.parse("check_run", {
        "action": "completed", "repository": REPO,
        "check_run": {"head_sha": "b" * 40, "pull_requests": [{"number": 3}],
                      "check_suite": {"head_branch": "dev"}}})
    assert run is not None and (run.pulls, run.shas, run.branches) == ({3}, {"b" * 40}, {"dev"})
    suite = webhooks.parse("check_suite", {
        "action": "completed", "repository": REPO,
        "check_suite": {"head_sha": "c" * 40, "head_branch": None, "pull_requests": []}})
    assert suite is not None and (suite.pulls, suite.shas, suite.branches) == (
        frozenset(), {"c" * 40}, frozenset())
    status = webhooks.parse("status", {"sha": "d" * 40, "state": "success", "repository": REPO,
                                       "branches": [{"name": "dev"}, {"name": "hotfix/x"}]})
    assert status is not None and status.branches == {"dev", "hotfix/x"}


def test_parse_ignores_other_events_and_actions_that_move_no_gate() -> None:
    assert webhooks.parse("push", {"repository": REPO}) is None
    assert webhooks.parse("check_run", {"action": "created", "repository": REPO}) is None
    assert webhooks.parse("pull_request", {"action": "labeled", "repository": REPO}) is None


def test_parse_rejects_a_followed_event_without_its_fields() -> None:
    with pytest.raises(webhooks.PayloadError):
        webhooks.parse("pull_request", {"action": "opened", "repository": REPO})
    with pytest.raises(webhooks.PayloadError):
        webhooks.parse("status", {"state": "success"})


def _record(**changes: Any) -> Promotion:
    base = Promotion(id=1, kind=Kind.PROMOTION, app="myapp", env="staging", source_branch="dev",
                     target_branch="staging", requested_by="U0DEV", requested_at=T0,
                     pr_number=5, head_sha="e" * 40)
    return base.replace(**changes)


def test_change_concerns_records_by_pull_sha_or_source_branch_of_the_same_repository() -> None:
    change = webhooks.Change("check_run", "completed", "Acme/MyApp", frozenset({9}),
                             frozenset({"e" * 40}), frozenset())
    assert change.concerns(_record(), "acme/myapp")  # the sha, whatever the case of the repo
    assert not change.concerns(_record(), "acme/other")
    assert not change.concerns(_record(head_sha="f" * 40), "acme/myapp")
    assert change.concerns(_record(head_sha="f" * 40, pr_number=9), "acme/myapp")
    opened = webhooks.Change("pull_request", "opened", "acme/myapp", frozenset({11}),
                             frozenset(), frozenset({"dev"}))
    assert opened.concerns(_record(pr_number=None, head_sha=None), "acme/myapp")


class Records:
    """A Store stand-in with the two calls Deliveries makes, recording them."""

    def __init__(self, live: list[Promotion]):
        self._live = live
        self.claimed: set[str] = set()
        self.calls: list[str] = []

    def live_all(self) -> list[Promotion]:
        self.calls.append("live_all")
        return list(self._live)

    def claim_once(self, key: str, ttl_seconds: int = 3600) -> bool:
        self.calls.append(f"claim_once {key}")
        if key in self.claimed:
            return False
        self.claimed.add(key)
        return True


def _deliveries(records: Records, kicked: list[int],
                deferred: list[Callable[[], object]]) -> webhooks.Deliveries:
    return webhooks.Deliveries(records, lambda app: "acme/myapp", kicked.append, deferred.append)


def test_deliveries_act_once_per_delivery_id_and_kick_only_concerned_records() -> None:
    records = Records([_record(), _record(id=2, env="prod", pr_number=6, head_sha="0" * 40,
                                          source_branch="staging")])
    kicked: list[int] = []
    deferred: list[Callable[[], object]] = []
    deliveries = _deliveries(records, kicked, deferred)
    change = webhooks.Change("pull_request_review", "submitted", "acme/myapp", frozenset({5}))
    assert deliveries.accept("d-1", change)
    assert not deliveries.accept("d-1", change)
    assert kicked == [] and len(deferred) == 1  # the lookup waits for the background
    deferred[0]()
    assert kicked == [1]


# -- the webhook route ------------------------------------------------------------------------


BOLT_SECRET = "s" * 32


def _bolt() -> App:
    return App(token="xoxb-test", signing_secret=BOLT_SECRET, token_verification_enabled=False)


def _call(web: WebApp, method: str, path: str, body: bytes = b"",
          headers: dict[str, str] | None = None) -> tuple[str, bytes]:
    environ: dict[str, Any] = {"REQUEST_METHOD": method, "PATH_INFO": path,
                               "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}
    for key, value in (headers or {}).items():
        environ["HTTP_" + key.upper().replace("-", "_")] = value
    setup_testing_defaults(environ)
    answer: list[str] = []
    chunks = web(environ, lambda status, headers, exc_info=None: answer.append(status))
    return answer[0], b"".join(chunks)


def _headers(body: bytes, event: str = "pull_request_review", delivery: str = "d-1",
             secret: str = SECRET) -> dict[str, str]:
    return {"X-GitHub-Event": event, "X-GitHub-Delivery": delivery,
            "X-Hub-Signature-256": webhooks.signature(secret, body)}


REVIEW = json.dumps({"action": "submitted", "repository": REPO,
                     "pull_request": {"number": 5, "head": {"sha": "e" * 40, "ref": "dev"}},
                     "review": {"state": "approved"}}).encode()


def test_webhook_without_a_secret_is_404_saying_why() -> None:
    web = WebApp(_bolt(), signing_secret=BOLT_SECRET, deliveries=_deliveries(Records([]), [], []))
    status, body = _call(web, "POST", "/github/webhook", REVIEW, _headers(REVIEW))
    assert status.startswith("404")
    assert "GITHUB_WEBHOOK_SECRET is not set" in json.loads(body)["error"]


def test_missigned_webhook_is_401_before_any_store_call(caplog: pytest.LogCaptureFixture) -> None:
    records, kicked, deferred = Records([_record()]), [], []  # type: ignore[var-annotated]
    metrics = Metrics()
    web = WebApp(_bolt(), signing_secret=BOLT_SECRET, webhook_secret=SECRET,
                 deliveries=_deliveries(records, kicked, deferred),
                 metrics=metrics)
    with caplog.at_level(logging.WARNING, logger="handlers.web"):
        status, _ = _call(web, "POST", "/github/webhook", REVIEW,
                          _headers(REVIEW, secret="another secret"))
    assert status.startswith("401")
    assert (records.calls, kicked, deferred) == ([], [], [])
    assert any(r.getMessage().startswith("401 for POST /github/webhook") for r in caplog.records)
    assert _value(metrics, "promotebot_github_webhooks_total", event="pull_request_review",
                  outcome="unauthorized") == 1


def test_webhook_answers_202_then_200_for_a_repeat_204_for_others_400_for_garbage() -> None:
    records, kicked, deferred = Records([_record()]), [], []  # type: ignore[var-annotated]
    web = WebApp(_bolt(), signing_secret=BOLT_SECRET, webhook_secret=SECRET,
                 deliveries=_deliveries(records, kicked, deferred))
    assert _call(web, "POST", "/github/webhook", REVIEW, _headers(REVIEW))[0].startswith("202")
    assert _call(web, "POST", "/github/webhook", REVIEW, _headers(REVIEW))[0].startswith("200")
    ping = b'{"zen": "Keep it logically awesome."}'
    assert _call(web, "POST", "/github/webhook", ping,
                 _headers(ping, "ping", "d-2"))[0].startswith("204")
    garbage = b"{not json"
    assert _call(web, "POST", "/github/webhook", garbage,
                 _headers(garbage, delivery="d-3"))[0].startswith("400")
    assert _call(web, "POST", "/github/webhook", REVIEW,
                 {**_headers(REVIEW), "X-GitHub-Delivery": ""})[0].startswith("400")
    assert _call(web, "GET", "/github/webhook")[0].startswith("405")
    assert len(deferred) == 1


def test_metrics_route_serves_the_bots_own_registry() -> None:
    one, two = Metrics(), Metrics()
    one.rollbacks.labels("myapp", "prod").inc()
    web = WebApp(_bolt(), signing_secret=BOLT_SECRET, metrics=one)
    status, body = _call(web, "GET", "/metrics")
    assert status.startswith("200")
    assert b'promotebot_rollbacks_total{app="myapp",env="prod"} 1.0' in body
    assert b"promotebot_rollbacks_total{" not in two.render()[0]  # registries never shared
    without = WebApp(_bolt(), signing_secret=BOLT_SECRET)
    assert _call(without, "GET", "/metrics")[0].startswith("404")


# -- redaction and JSON lines ---------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "Authorization: token ghp_abcdefghijklmnopqrstuvwxyz0123456789",
    "{'Authorization': 'Bearer abc.def.ghi'}",
    "headers: {\"authorization\": \"Basic dXNlcjpwYXNz\"}",
    "body: token=legacy-verification-token&team_id=T1",
    "payload=%7B%22token%22%3A%22legacy-verification-token%22%2C%22type%22%3A%22x%22%7D",
    "{'token': 'legacy-verification-token', 'type': 'x'}",
    "bot xoxb-1234-5678-abcdefghij and xoxp-1-2-3 and xapp-1-A1-123-abc",
    "gho_abcdef012345 ghs_abcdef012345 ghu_abcdef012345 github_pat_11ABCDEF_xyz",
    "jwt eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiIxIn0.c2lnbmF0dXJl",
])
def test_redactor_masks_token_shapes(text: str) -> None:
    redacted = logs.Redactor()(text)
    assert MASK in redacted
    for secret in ("ghp_abc", "abc.def", "dXNlcjpwYXNz", "legacy-verification-token", "xoxb-1",
                   "xoxp-1", "xapp-1", "gho_", "ghs_", "ghu_", "github_pat_", "eyJ"):
        assert secret not in redacted


def test_redactor_masks_configured_secrets_and_leaves_other_text() -> None:
    redact = logs.Redactor(["plain-signing-secret", "ab"])  # too short to mask safely
    assert redact("sig plain-signing-secret about") == f"sig {MASK} about"
    assert redact("promotion 12: merged abc123 into staging") == (
        "promotion 12: merged abc123 into staging")


def test_settings_secrets_cover_tokens_key_webhook_and_redis_password() -> None:
    settings = load_settings({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "sign-me",
                              "GITHUB_TOKEN": "tok-123456", "GITHUB_WEBHOOK_SECRET": "hook-me",
                              "REDIS_URL": "redis://:hunter22@redis:6379/0"})
    assert set(logs.settings_secrets(settings)) >= {
        "xoxb-1", "sign-me", "tok-123456", "hook-me", "redis://:hunter22@redis:6379/0",
        "hunter22"}


def _json_line(record_logger: Callable[[logging.Logger], None],
               secrets: tuple[str, ...] = ()) -> dict[str, Any]:
    stream = io.StringIO()
    logger = logging.getLogger(f"test.observability.{id(stream)}")
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    logger.addHandler(logs.handler(stream, secrets))
    record_logger(logger)
    [line] = stream.getvalue().splitlines()
    return json.loads(line)


def test_json_line_carries_fields_ids_and_a_redacted_exception() -> None:
    def fail(logger: logging.Logger) -> None:
        try:
            raise RuntimeError("GET failed with Authorization: token s3cr3t-value")
        except RuntimeError:
            with logs.scope(request="req-1", promotion=42):
                logger.exception("could not read %s", "hunter22-the-secret")

    line = _json_line(fail, ("hunter22-the-secret",))
    assert line["level"] == "ERROR" and line["message"] == f"could not read {MASK}"
    assert (line["request_id"], line["promotion_id"]) == ("req-1", 42)
    assert "RuntimeError" in line["exception"] and "s3cr3t-value" not in line["exception"]
    assert datetime.fromisoformat(line["time"]).tzinfo is not None


def test_json_line_names_the_promotion_of_a_house_form_message() -> None:
    line = _json_line(lambda logger: logger.warning("promotion %s: could not comment", 17))
    assert line["promotion_id"] == 17 and "request_id" not in line


def test_configure_installs_one_handler_and_a_second_call_replaces_it() -> None:
    root = logging.getLogger()
    level, before = root.level, list(root.handlers)
    try:
        logs.configure("INFO", fmt="text", stream=io.StringIO())
        second = io.StringIO()
        installed = logs.configure("WARNING", stream=second)
        ours = [h for h in root.handlers if getattr(h, "_promotebot", False)]
        assert ours == [installed] and root.level == logging.WARNING
        logging.getLogger("test.observability.configure").warning("xoxb-123-abc in a line")
        assert json.loads(second.getvalue().splitlines()[-1])["message"] == f"{MASK} in a line"
    finally:
        for handler in [h for h in root.handlers if h not in before]:
            root.removeHandler(handler)
        root.setLevel(level)


def test_log_format_setting_defaults_to_json_and_refuses_others() -> None:
    base = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "GITHUB_TOKEN": "t"}
    assert load_settings(base).log_format == "json"
    assert load_settings({**base, "PROMOTEBOT_LOG_FORMAT": "TEXT"}).log_format == "text"
    with pytest.raises(Exception, match="PROMOTEBOT_LOG_FORMAT: expected one of json, text"):
        load_settings({**base, "PROMOTEBOT_LOG_FORMAT": "xml"})


def test_context_follows_work_into_pools_and_never_leaks_between_tasks() -> None:
    pool = logs.ContextThreadPoolExecutor(max_workers=1)
    try:
        def adopt_then_read() -> tuple[str | None, int | None]:
            logs.adopt_promotion(7)
            return logs.request_id.get(), logs.promotion_id.get()

        with logs.scope(request="req-a"):
            assert pool.submit(adopt_then_read).result() == ("req-a", 7)
        # The same worker thread, a new task: nothing left from the last one.
        assert pool.submit(lambda: (logs.request_id.get(), logs.promotion_id.get())).result() \
            == (None, None)
        logs.adopt_promotion(9)  # outside a unit of work: no adoption
        assert logs.promotion_id.get() is None
    finally:
        pool.shutdown()


# -- metrics --------------------------------------------------------------------------------


class Inner:
    def __init__(self, fail: bool = False):
        self.fail = fail
        self.seen: list[str] = []

    def promotion_changed(self, promotion: Promotion, event: Event) -> None:
        self.seen.append(event.kind)
        if self.fail:
            raise RuntimeError("slack is down")


def _event(kind: str, record: Promotion, seconds: float) -> Event:
    facts = FACTS[EventKind(kind)]
    return Event(record.id, record.app, record.env, "bot", T0 + timedelta(seconds=seconds),
                 facts(**_SAMPLE.get(kind, {})))


_SAMPLE: dict[str, dict[str, object]] = {
    "pr_opened": {"number": 1, "url": "https://github.test/acme/myapp/pull/1"},
    "merged": {"sha": "a" * 40},
    "deployed": {"revision": "staging@sha1:" + "a" * 40},
    "failed": {"reason": Reason(Code.FLUX_FAILED)},
}


def _value(metrics: Metrics, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(metrics.render()[0].decode()):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    raise AssertionError(f"no {name} {labels}")


def test_metrics_notifier_times_each_step_from_event_timestamps() -> None:
    metrics, inner = Metrics(), Inner()
    notifier = MetricsNotifier(inner, metrics)
    record = _record(state=State.REQUESTED, version=1)
    steps = [("requested", State.REQUESTED, 0), ("pr_opened", State.PR_OPEN, 2),
             ("awaiting_gates", State.AWAITING_GATES, 3), ("gates", State.AWAITING_GATES, 50),
             ("gates_passed", State.MERGING, 123), ("merged", State.RECONCILING, 125),
             ("deployed", State.DEPLOYED, 185), ("deployed", State.DEPLOYED, 186)]
    for kind, state, at in steps:
        notifier.promotion_changed(record.replace(state=state), _event(kind, record, at))
    sums = {step: _value(metrics, "promotebot_step_duration_seconds_sum", kind="promotion",
                         step=step)
            for step in ("requested", "pr_open", "awaiting_gates", "merging", "reconciling")}
    assert sums == {"requested": 2, "pr_open": 1, "awaiting_gates": 120, "merging": 2,
                    "reconciling": 60}
    assert _value(metrics, "promotebot_gate_wait_seconds_sum", app="myapp", env="staging") == 120
    assert _value(metrics, "promotebot_promotions_total", app="myapp", env="staging",
                  kind="promotion", result="deployed") == 1  # counted once
    assert len(inner.seen) == len(steps)


def test_metrics_notifier_counts_rollbacks_once_and_never_raises_its_own_errors() -> None:
    metrics = Metrics()
    notifier = MetricsNotifier(Inner(), metrics)
    rollback = _record(id=3, kind=Kind.ROLLBACK, env="prod", version=1)
    notifier.promotion_changed(rollback, _event("requested", rollback, 0))
    notifier.promotion_changed(rollback.replace(state=State.MERGING, version=2),
                               _event("merging", rollback, 1))
    failed = rollback.replace(state=State.FAILED, version=3)
    notifier.promotion_changed(failed, _event("failed", rollback, 2))
    assert _value(metrics, "promotebot_rollbacks_total", app="myapp", env="prod") == 1
    assert _value(metrics, "promotebot_promotions_total", app="myapp", env="prod",
                  kind="rollback", result="failed") == 1
    broken = _record(id=4).replace(requested_at="not a time")  # metrics cannot compute
    inner = Inner()
    MetricsNotifier(inner, metrics).promotion_changed(broken, _event("requested", broken, 0))
    assert inner.seen == ["requested"]  # told although the metrics could not count it
    # The inner notifier's own failure still reaches the engine, which logs it.
    with pytest.raises(RuntimeError, match="slack is down"):
        MetricsNotifier(Inner(fail=True), metrics).promotion_changed(
            _record(id=5), _event("requested", _record(id=5), 0))


class Adapter:
    def fine(self) -> int:
        return 1

    def refused(self) -> None:
        raise NotAllowed(Reason(Code.EMPTY_REASON))  # a business answer

    def broken(self) -> None:
        raise ForgeError("GitHub answered 502")

    colour = "blue"


def test_counting_proxy_counts_calls_and_failures_but_not_business_answers() -> None:
    metrics = Metrics()
    proxy: Any = CountingProxy(Adapter(), "github", metrics)
    assert proxy.fine() == 1 and proxy.colour == "blue"
    with pytest.raises(NotAllowed):
        proxy.refused()
    with pytest.raises(ForgeError):
        proxy.broken()
    calls = {op: _value(metrics, "promotebot_external_calls_total", service="github",
                        operation=op) for op in ("fine", "refused", "broken")}
    errors = {op: _value(metrics, "promotebot_external_errors_total", service="github",
                         operation=op) for op in ("fine", "refused", "broken")}
    assert calls == {"fine": 1, "refused": 1, "broken": 1}
    assert errors == {"fine": 0, "refused": 0, "broken": 1}


def test_json_handler_writes_one_parseable_line_per_record_even_with_newlines() -> None:
    line = _json_line(lambda logger: logger.info("two\nlines and a tab\t"))
    assert line["message"] == "two\nlines and a tab\t"


# -- one record, one line (the text format), and JSON lines that splitlines() keeps whole -----

RECORD_START = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (DEBUG|INFO|WARNING|ERROR) ")
FORGERY = "x\n2026-11-25 12:00:00,000 ERROR promotebot [forged #1] FORGED\r\x1b[31mred\u2028y"


def _text_lines(emit: Any) -> list[str]:
    stream = io.StringIO()
    handler = logs.handler(stream, fmt="text")
    logger = logging.getLogger(f"edge-test-{uuid.uuid4().hex[:6]}")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        emit(logger)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue().split("\n")[:-1]


def test_a_text_line_escapes_every_control_character_a_message_carries() -> None:
    lines = _text_lines(lambda log: log.warning("request from %s", FORGERY))
    [line] = lines
    assert RECORD_START.match(line)
    assert "\\n2026-11-25 12:00:00,000 ERROR" in line and "\\x1b[31m" in line
    assert "\\r" in line and "\\u2028" in line
    assert not any(c in line for c in "\r\x1b\u2028")


def test_a_traceback_follows_its_record_indented_so_it_can_start_no_record() -> None:
    def emit(log: logging.Logger) -> None:
        try:
            raise ValueError(FORGERY)
        except ValueError:
            log.exception("failed for %s", "\x1b[2Jme")

    lines = _text_lines(emit)
    assert RECORD_START.match(lines[0]) and "\\x1b[2Jme" in lines[0]
    assert len(lines) > 2
    assert all(line.startswith(logs.TRACEBACK_INDENT) for line in lines[1:])
    assert [RECORD_START.match(line) for line in lines].count(None) == len(lines) - 1
    assert "\x1b" not in "".join(lines)


def test_a_json_line_stays_one_line_for_every_line_breaking_character() -> None:
    stream = io.StringIO()
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "a\u2028b\u2029c\x85d\ne\x1ef",
                               None, None)
    stream.write(logs.JsonFormatter().format(record))
    text = stream.getvalue()
    assert len(text.splitlines()) == 1
    assert json.loads(text)["message"] == "a\u2028b\u2029c\x85d\ne\x1ef"
