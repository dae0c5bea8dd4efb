"""The HTTP clients keep a connection per thread that calls out. The bot's workers call GitHub
and each cluster in parallel; urllib3 keeps at most its pool's size of connections per host
and discards the rest (logging "Connection pool is full"), so with the libraries' default of
10 every busy moment re-opened connections (a TCP and, in production, a TLS handshake each).
A server that holds each request until all of a round have arrived counts the connections."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from kubernetes import client as k8s

from promotebot.wiring import Tuning
from slackbot.adapters.flux import api_client
from slackbot.adapters.github import github_client

AT_ONCE = Tuning().worker_threads
HOLD = 60.0  # seconds a request waits for the rest of its round: no load exhausts it


class Counting(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.connections = 0
        self.lock = threading.Lock()
        self.round = threading.Barrier(AT_ONCE)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as GitHub and the API server
    server: Counting

    def setup(self) -> None:
        super().setup()
        with self.server.lock:
            self.server.connections += 1

    def do_GET(self) -> None:
        self.server.round.wait(timeout=HOLD)
        body = json.dumps({"kind": "NamespaceList", "apiVersion": "v1", "metadata": {},
                           "items": []}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[Counting]:
    counting = Counting()
    thread = threading.Thread(target=counting.serve_forever, daemon=True)
    thread.start()
    yield counting
    counting.shutdown()
    counting.server_close()


def _rounds(call: Callable[[], object], count: int) -> None:
    with ThreadPoolExecutor(AT_ONCE) as pool:
        for _ in range(count):
            list(pool.map(lambda _: call(), range(AT_ONCE)))


def _github(url: str, connections: int) -> Callable[[], object]:
    client = github_client(url, "ghs_pool", fast=True, connections=connections)
    return lambda: client.requester.requestJsonAndCheck("GET", "/anything")


def _kube(url: str, connections: int) -> Callable[[], object]:
    core = k8s.CoreV1Api(api_client(url, connections=connections))
    return lambda: core.list_namespace()


@pytest.mark.parametrize("client", [_github, _kube], ids=["github", "kubernetes"])
def test_parallel_calls_keep_their_connections_with_the_bots_pool(
        server: Counting, client: Callable[[str, int], Callable[[], object]]) -> None:
    call = client(f"http://127.0.0.1:{server.server_port}", Tuning().connections)
    _rounds(call, 3)
    assert server.connections == AT_ONCE  # the first round's, kept for the next two


@pytest.mark.parametrize("client", [_github, _kube], ids=["github", "kubernetes"])
def test_a_pool_smaller_than_the_workers_reopens_connections(
        server: Counting, client: Callable[[str, int], Callable[[], object]]) -> None:
    call = client(f"http://127.0.0.1:{server.server_port}", 4)
    _rounds(call, 3)
    assert server.connections > AT_ONCE
