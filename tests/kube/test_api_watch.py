"""Watch streams: framing, event types, bookmarks, resumption, 410 Expired and timeouts."""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from kubernetes import watch
from kubernetes.client.exceptions import ApiException

from sandbox.kube.client import api_client
from tests.kube.conftest import Cluster, start_cluster
from tests.kube.objects import KS_GROUP, VERSION, kustomization, staging_kustomization

PATH = f"/apis/{KS_GROUP}/{VERSION}/namespaces/flux-system/kustomizations"


def _ks_stream(cluster: Cluster, **kwargs: Any) -> Iterator[dict[str, Any]]:
    return watch.Watch().stream(
        cluster.custom.list_namespaced_custom_object,
        KS_GROUP,
        VERSION,
        "flux-system",
        "kustomizations",
        **kwargs,
    )


def _create(cluster: Cluster, body: dict[str, Any] | None = None) -> dict[str, Any]:
    return dict(
        cluster.custom.create_namespaced_custom_object(
            KS_GROUP, VERSION, "flux-system", "kustomizations", body or kustomization()
        )
    )


def _annotate(cluster: Cluster, token: str, name: str = "myapp-dev") -> dict[str, Any]:
    return dict(
        cluster.custom.patch_namespaced_custom_object(
            KS_GROUP,
            VERSION,
            "flux-system",
            "kustomizations",
            name,
            {"metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": token}}},
        )
    )


def _raw_lines(url: str, query: str) -> tuple[http.client.HTTPResponse, list[bytes]]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", f"{PATH}?{query}", headers={"Accept": "application/json"})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response, body.split(b"\n")


def test_watch_stream_framing_is_chunked_json_lines(cluster: Cluster) -> None:
    created = _create(cluster)
    _annotate(cluster, "t1")
    rv = created["metadata"]["resourceVersion"]
    response, lines = _raw_lines(
        cluster.server.url, f"watch=True&resourceVersion={int(rv) - 1}&timeoutSeconds=1"
    )
    assert response.status == 200
    assert response.getheader("Transfer-Encoding") == "chunked"
    assert response.getheader("Content-Type") == "application/json"
    assert lines[-1] == b""  # the body ends with a newline
    events = [json.loads(line) for line in lines[:-1]]
    assert all(line for line in lines[:-1])  # no blank keep-alive lines
    assert [e["type"] for e in events] == ["ADDED", "MODIFIED"]
    assert events[0]["object"]["metadata"]["resourceVersion"] == rv


def test_watch_parses_go_booleans(cluster: Cluster) -> None:
    _create(cluster)
    for value in ("true", "1"):  # "True" is what the python client sends, tested above
        _, lines = _raw_lines(cluster.server.url, f"watch={value}&timeoutSeconds=1")
        assert json.loads(lines[0])["type"] == "ADDED"


def test_watch_reports_added_modified_deleted(cluster: Cluster) -> None:
    events: list[tuple[str, str]] = []
    ready = threading.Event()

    def consume() -> None:
        for event in _ks_stream(cluster, timeout_seconds=5, allow_watch_bookmarks=False):
            if event["type"] == "ADDED" and event["object"]["metadata"]["name"] == "sentinel":
                ready.set()
                continue
            events.append((event["type"], event["object"]["metadata"]["name"]))
            if event["type"] == "DELETED":
                return

    _create(cluster, kustomization("sentinel"))
    thread = threading.Thread(target=consume, daemon=True)
    thread.start()
    assert ready.wait(5)
    _create(cluster)
    _annotate(cluster, "t1")
    cluster.custom.delete_namespaced_custom_object(
        KS_GROUP, VERSION, "flux-system", "kustomizations", "myapp-dev"
    )
    thread.join(10)
    assert events == [("ADDED", "myapp-dev"), ("MODIFIED", "myapp-dev"), ("DELETED", "myapp-dev")]


def test_watch_sends_bookmarks_only_when_asked(cluster: Cluster) -> None:
    created = _create(cluster)
    rv = created["metadata"]["resourceVersion"]
    kinds: list[str] = []
    for event in _ks_stream(
        cluster, resource_version=rv, timeout_seconds=1, allow_watch_bookmarks=True
    ):
        kinds.append(event["type"])
        if event["type"] == "BOOKMARK":
            obj = event["object"]
            assert obj["kind"] == "Kustomization"
            assert obj["metadata"] == {"resourceVersion": cluster.store.resource_version}
            break
    assert kinds == ["BOOKMARK"]
    plain = [e["type"] for e in _ks_stream(cluster, resource_version=rv, timeout_seconds=1)]
    assert plain == []


def test_watch_resumes_from_resource_version_without_losing_events(cluster: Cluster) -> None:
    created = _create(cluster)
    last_rv = created["metadata"]["resourceVersion"]
    first = [
        e["object"]["metadata"]["resourceVersion"]
        for e in _ks_stream(cluster, resource_version=last_rv, timeout_seconds=1)
    ]
    assert first == []
    # While "disconnected", three writes happen; the reconnect sees each of them in order.
    versions = [_annotate(cluster, f"t{i}")["metadata"]["resourceVersion"] for i in range(3)]
    staging = _create(cluster, staging_kustomization())
    seen: list[tuple[str, str]] = []
    for event in _ks_stream(cluster, resource_version=last_rv, timeout_seconds=1):
        seen.append((event["type"], event["object"]["metadata"]["resourceVersion"]))
    assert seen == [("MODIFIED", v) for v in versions] + [
        ("ADDED", staging["metadata"]["resourceVersion"])
    ]


def test_watch_without_resource_version_starts_with_current_objects(cluster: Cluster) -> None:
    _create(cluster)
    _create(cluster, staging_kustomization())
    seen = [
        (e["type"], e["object"]["metadata"]["name"]) for e in _ks_stream(cluster, timeout_seconds=1)
    ]
    assert seen == [("ADDED", "myapp-dev"), ("ADDED", "myapp-staging")]


def test_watch_label_selector_filters_events(cluster: Cluster) -> None:
    created = _create(cluster)
    _create(cluster, staging_kustomization())
    _annotate(cluster, "t1", "myapp-staging")
    seen = [
        e["object"]["metadata"]["name"]
        for e in _ks_stream(
            cluster,
            resource_version=created["metadata"]["resourceVersion"],
            timeout_seconds=1,
            label_selector="env=staging",
        )
    ]
    assert seen == ["myapp-staging", "myapp-staging"]


def test_watch_compacted_resource_version_gets_410_expired() -> None:
    store, server = start_cluster(history_size=3)
    api = api_client(server.url)
    try:
        cluster = Cluster(store, server, api)
        created = _create(cluster)
        for i in range(5):
            _annotate(cluster, f"t{i}")
        old_rv = created["metadata"]["resourceVersion"]
        _, lines = _raw_lines(server.url, f"watch=1&resourceVersion={old_rv}&timeoutSeconds=1")
        error = json.loads(lines[0])
        assert error["type"] == "ERROR"
        assert error["object"]["code"] == 410
        assert error["object"]["reason"] == "Expired"
        assert error["object"]["message"].startswith(f"too old resource version: {old_rv} (")
        with pytest.raises(ApiException) as err:
            list(_ks_stream(cluster, resource_version=old_rv, timeout_seconds=1))
        assert err.value.status == 410
        # The recovery the client must do: re-list, then watch from the list's version.
        listed = cluster.custom.list_namespaced_custom_object(
            KS_GROUP, VERSION, "flux-system", "kustomizations"
        )
        fresh = list(
            _ks_stream(
                cluster, resource_version=listed["metadata"]["resourceVersion"], timeout_seconds=1
            )
        )
        assert fresh == []
    finally:
        api.close()
        server.stop()


def test_store_compaction_expires_older_versions(cluster: Cluster) -> None:
    created = _create(cluster)
    _annotate(cluster, "t1")
    cluster.store.compact()
    with pytest.raises(ApiException) as err:
        list(
            _ks_stream(
                cluster, resource_version=created["metadata"]["resourceVersion"], timeout_seconds=1
            )
        )
    assert err.value.status == 410


def test_watch_timeout_seconds_ends_the_stream(cluster: Cluster) -> None:
    _create(cluster)
    done = threading.Event()
    seen: list[str] = []

    def consume() -> None:
        for event in _ks_stream(cluster, timeout_seconds=1):
            seen.append(event["type"])
        done.set()

    threading.Thread(target=consume, daemon=True).start()
    assert done.wait(10), "the stream did not end after timeoutSeconds"
    assert seen == ["ADDED"]


def test_server_stop_ends_open_watches() -> None:
    store, server = start_cluster()
    api = api_client(server.url)
    done = threading.Event()
    cluster = Cluster(store, server, api)

    def consume() -> None:
        try:
            for _ in _ks_stream(cluster, timeout_seconds=60):
                pass
        finally:
            done.set()

    threading.Thread(target=consume, daemon=True).start()
    deadline_ok = False
    for _ in range(50):
        if server._watches:  # the watch is registered
            deadline_ok = True
            break
        done.wait(0.05)
    assert deadline_ok
    server.stop()
    assert done.wait(10)
    api.close()


def test_watch_helper_reconnects_from_last_version_when_server_closes() -> None:
    # Streams last 0.3 s here; without timeout_seconds the client reconnects each time from
    # the last resourceVersion it saw, and must see every write exactly once.
    store, server = start_cluster(max_watch_seconds=0.3)
    api = api_client(server.url)
    cluster = Cluster(store, server, api)
    try:
        created = _create(cluster)
        seen: list[str] = []
        writes: list[str] = []
        w = watch.Watch()
        stream = w.stream(
            cluster.custom.list_namespaced_custom_object,
            KS_GROUP,
            VERSION,
            "flux-system",
            "kustomizations",
            resource_version=created["metadata"]["resourceVersion"],
        )

        def writer() -> None:
            for i in range(6):
                writes.append(_annotate(cluster, f"t{i}")["metadata"]["resourceVersion"])
                threading.Event().wait(0.15)  # spread the writes over several streams

        done = threading.Event()

        def consume() -> None:
            for event in stream:
                seen.append(event["object"]["metadata"]["resourceVersion"])
                if len(seen) == 6:
                    w.stop()
            done.set()

        threading.Thread(target=consume, daemon=True).start()
        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        thread.join(10)
        finished = done.wait(10)
        w.stop()  # bounded: a lost event would otherwise keep the watch open
        assert finished, f"saw {seen}, wrote {writes}"
        assert seen == writes
    finally:
        api.close()
        server.stop()
