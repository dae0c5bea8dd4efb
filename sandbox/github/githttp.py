"""Git smart HTTP for the emulated repository, by running `git http-backend` as a CGI.

`git clone {base}/{owner}/{repo}.git` and `git push` reach the same bare repository the
REST API reads, so a developer's push is visible to the API at once. This module only
translates one HTTP request into the CGI environment and the CGI output back, and can reword
the reason of a ref the pre-receive hook declined (`reword_declined`); it does not decide who
may push (`gitserve` does).
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
    hooks_path: Path | None = None,
    extra_env: dict[str, str] | None = None,
) -> CgiResponse:
    """One smart-HTTP request (`sub_path` like `/info/refs`) against the bare repository;
    `hooks_path` holds the hooks receive-pack runs, `extra_env` reaches them."""
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
    env.update(extra_env or {})
    for key, value in headers.items():
        if key in ("git-protocol", "content-encoding"):
            env["HTTP_" + key.upper().replace("-", "_")] = value
    config = ["-c", "http.receivepack=true", "-c", "http.uploadpack=true"]
    if hooks_path is not None:
        config += ["-c", f"core.hooksPath={hooks_path}"]
    proc = subprocess.run(
        ["git", *config, "http-backend"],
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


# -- pkt-lines (gitprotocol-common) ------------------------------------------------------------


def _pkt_lines(data: bytes) -> list[bytes | None] | None:
    """The pkt-lines of `data` (None for a flush-pkt); None when it is not a pkt-line stream."""
    out: list[bytes | None] = []
    i = 0
    while i < len(data):
        try:
            size = int(data[i:i + 4], 16)
        except ValueError:
            return None
        if size == 0:
            out.append(None)
            i += 4
            continue
        if size < 4 or i + size > len(data):
            return None
        out.append(data[i + 4:i + size])
        i += size
    return out


def _pkt(payload: bytes | None) -> bytes:
    return b"0000" if payload is None else b"%04x" % (len(payload) + 4) + payload


def _reword_report(report: bytes, old: bytes, new: bytes) -> bytes:
    lines = _pkt_lines(report)
    if lines is None:
        return report
    return b"".join(_pkt(line.replace(b" " + old, b" " + new) if line and line.startswith(b"ng ")
                         else line) for line in lines)


def reword_declined(body: bytes, new_reason: str, old_reason: str = "pre-receive hook declined"
                    ) -> bytes:
    """The receive-pack answer with `old_reason` on rejected refs ("ng <ref> <reason>") replaced
    by `new_reason`, inside side-band channel 1 or without side-band."""
    old, new = old_reason.encode(), new_reason.encode()
    packets = _pkt_lines(body)
    if packets is None:
        return body
    if not any(p and p[:1] == b"\x01" for p in packets):
        return _reword_report(body, old, new)
    report = b"".join(p[1:] for p in packets if p and p[:1] == b"\x01")
    reworded = _reword_report(report, old, new)
    out: list[bytes] = []
    placed = False
    for packet in packets:
        if packet and packet[:1] == b"\x01":
            if not placed:
                for start in range(0, len(reworded), 65515):
                    out.append(_pkt(b"\x01" + reworded[start:start + 65515]))
                placed = True
            continue
        out.append(_pkt(packet))
    return b"".join(out)
