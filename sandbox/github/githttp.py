"""Git smart HTTP for the emulated repository, by running `git http-backend` as a CGI.

`git clone {base}/{owner}/{repo}.git` and `git push` reach the same bare repository the
REST API reads, so a developer's push is visible to the API at once. This module only
translates one HTTP request into the CGI environment and the CGI output back; it does not
decide who may push (the server does).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CgiResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes


def run_http_backend(
    repo: Path,
    method: str,
    sub_path: str,
    query: str,
    body: bytes,
    headers: dict[str, str],
    remote_user: str | None,
) -> CgiResponse:
    """One smart-HTTP request (`sub_path` like `/info/refs`) against the bare repository."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/tmp"),
        "GIT_HTTP_EXPORT_ALL": "1",
        "PATH_TRANSLATED": f"{repo}{sub_path}",
        "PATH_INFO": sub_path,
        "REQUEST_METHOD": method,
        "QUERY_STRING": query,
        "CONTENT_TYPE": headers.get("content-type", ""),
        "CONTENT_LENGTH": str(len(body)),
        "REMOTE_ADDR": "127.0.0.1",
        "GATEWAY_INTERFACE": "CGI/1.1",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    if remote_user:
        env["REMOTE_USER"] = remote_user
    for key, value in headers.items():
        if key in ("git-protocol", "content-encoding"):
            env["HTTP_" + key.upper().replace("-", "_")] = value
    proc = subprocess.run(
        ["git", "-c", "http.receivepack=true", "-c", "http.uploadpack=true", "http-backend"],
        input=body,
        capture_output=True,
        env=env,
        check=False,
        timeout=120,
    )
    return parse_cgi_output(proc.stdout)


def parse_cgi_output(output: bytes) -> CgiResponse:
    head, sep, body = output.partition(b"\r\n\r\n")
    if not sep:
        head, sep, body = output.partition(b"\n\n")
    status = 200
    headers: list[tuple[str, str]] = []
    for raw in head.decode("latin-1").splitlines():
        if ":" not in raw:
            continue
        key, _, value = raw.partition(":")
        key, value = key.strip(), value.strip()
        if key.lower() == "status":
            status = int(value.split()[0])
        else:
            headers.append((key, value))
    if not sep:
        return CgiResponse(500, [("Content-Type", "text/plain")], b"git http-backend failed\n")
    return CgiResponse(status, headers, body)
