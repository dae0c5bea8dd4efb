"""No request can forge a log line: the real bot, logging in the text format, is sent signed
requests whose ids and fields carry a line break, a fake record and ANSI escapes; the ones it
repeats are logged with those fields ("duplicate delivery ignored (...)"). Every line of the
output is then a record of the bot's own or an indented traceback line, and no control
character reaches the terminal."""

from __future__ import annotations

import io
import json
import logging
import time
from urllib.parse import urlencode

from slackbot import logs
from tests.e2e.conftest import DEV
from tests.edge.conftest import command_body, slack_headers
from tests.observability.conftest import Observed
from tests.observability.test_pieces import RECORD_START

FORGERY = "1.2\n2026-11-25 12:00:00,000 ERROR promotebot [forged #1] FORGED\r\x1b[31mred\x1b[0m"


def test_fields_with_line_breaks_and_ansi_escapes_cannot_make_a_second_text_line(
        bot: Observed) -> None:
    o = bot
    stream = io.StringIO()
    text = logs.handler(stream, logs.settings_secrets(o.bot.settings), "text")
    root = logging.getLogger()
    root.addHandler(text)
    try:
        command = command_body(o, "help", trigger_id=FORGERY)
        reply_url = f"{o.world.slack.url}/response/" + o.world.slack.workspace.issue_response_url(
            DEV, "C0DEPLOYS", None, False)
        click = urlencode({"payload": json.dumps({
            "type": "block_actions", "user": {"id": DEV, "team_id": "T0SANDBOX"},
            "team": {"id": "T0SANDBOX"}, "trigger_id": FORGERY, "response_url": reply_url,
            "container": {"type": "message", "channel_id": "C0DEPLOYS", "message_ts": "1.1"},
            "actions": [{"type": "button", "action_id": "promotion.cancel", "block_id": "b",
                         "value": FORGERY, "action_ts": FORGERY}]})}).encode()
        event = json.dumps({"type": "event_callback", "team_id": "T0SANDBOX",
                            "event_id": FORGERY, "event_time": int(time.time()),
                            "event": {"type": "app_home_opened", "user": DEV, "tab": "messages",
                                      "channel": "D0DEV"}}).encode()
        for body, kind in ((command, "application/x-www-form-urlencoded"),
                           (click, "application/x-www-form-urlencoded"),
                           (event, "application/json")):
            for _ in range(2):  # the repeat is logged with the fields it repeats
                status, _ = o.post("/slack/events", body, slack_headers(body, content_type=kind))
                assert status == 200
    finally:
        root.removeHandler(text)
    output = stream.getvalue()
    lines = output.split("\n")[:-1]
    strays = [line for line in lines
              if not RECORD_START.match(line) and not line.startswith(logs.TRACEBACK_INDENT)]
    assert strays == []
    forged = [line for line in lines if "FORGED" in line]
    repeats = [line for line in forged if "duplicate delivery ignored" in line]
    assert len(repeats) == 3, forged  # each vector reached a log line
    assert all(RECORD_START.match(line) and "\\n2026-11-25 12:00:00,000 ERROR" in line
               for line in forged)
    assert not any(c in output for c in "\r\x1b\x00\u2028")
