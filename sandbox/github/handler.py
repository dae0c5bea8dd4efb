"""The emulator's HTTP handler: one request in, one answer out, for the REST API, git smart
HTTP, the pre-receive hook's call back and, when the emulator serves them, its web pages.

It reads the body (chunked or not), hands the request to the gateway (REST) or the git
service, and writes the answer, or loses it when a fault says so (the connection closes
unanswered, or a 502 replaces it). Nothing a client sends can crash it: an unexpected error is
that request's JSON 500. It holds no GitHub semantics.
"""

from __future__ import annotations

import json
import logging
import uuid
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

from sandbox.github.gitserve import HOOK_PATH
from sandbox.github.routing import Response
from sandbox.httpserver import QuietHandler

if TYPE_CHECKING:
    from sandbox.github.server import GitHubEmulator

log = logging.getLogger(__name__)
SERVER_ERROR = {"message": "Server Error", "documentation_url": "https://docs.github.com/rest",
                "status": "500"}


def handler_for(emulator: GitHubEmulator) -> type[QuietHandler]:
    class Handler(GitHubHandler):
        owner: ClassVar[GitHubEmulator] = emulator

    return Handler


class GitHubHandler(QuietHandler):
    owner: ClassVar[GitHubEmulator]

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_GET

    def _read_request_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                size_line = self.rfile.readline()
                size = int(size_line.split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        return self.read_body()

    def _dispatch(self) -> None:
        emulator = self.owner
        request_id = uuid.uuid4().hex[:16].upper()
        try:
            body = self._read_request_body()
            headers = {k.lower(): v for k, v in self.headers.items()}
            split = urlsplit(self.path)
            if split.path == HOOK_PATH and self.command == "POST":
                self.send_json(200, emulator.git.pre_receive(body))
                return
            page = (emulator.pages.answer(split.path)
                    if emulator.pages is not None and self.command == "GET" else None)
            if page is not None:
                self.send_bytes(page[0], page[1].encode(), "text/html; charset=utf-8")
                return
            git_sub = emulator.git_path(split.path)
            if git_sub is not None:
                reply = emulator.serve_git(self.command, git_sub, split.query, body, headers)
                self.send_bytes(reply.status, reply.body, reply.content_type, reply.headers)
                return
            response = emulator.gateway.handle(self.command, split.path, self.query, body,
                                               headers, request_id)
        except Exception:  # never crash: one request's failure is that request's 500
            log.exception("github emulator: %s %s failed (request %s)", self.command,
                          self.path_only, request_id)
            response = Response(500, dict(SERVER_ERROR))
        if response.lost == "drop":
            self.close_connection = True  # the work is done; the answer never arrives
            return
        if response.lost == "502":
            response = Response(502, {"message": "Server Error",
                                      "documentation_url": "https://docs.github.com/rest"})
        self._send(response, request_id)

    def _send(self, response: Response, request_id: str) -> None:
        response.headers.setdefault("x-github-request-id", request_id)
        response.headers.setdefault("x-github-api-version-selected", "2022-11-28")
        response.headers.setdefault("X-GitHub-Media-Type", "github.v3; format=json")
        if response.status in (204, 304) or response.body is None:
            self.send_response(response.status)
            for key, value in response.headers.items():
                self.send_header(key, value)
            if response.status != 304:
                self.send_header("Content-Length", "0")
            self.end_headers()
            return
        payload = json.dumps(response.body).encode()
        self.send_bytes(response.status, payload, "application/json; charset=utf-8",
                        response.headers)
