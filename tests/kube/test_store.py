"""The in-process store: the registry semantics the HTTP server and the Flux simulator share."""

from __future__ import annotations

from typing import Any

import pytest

from sandbox.kube.store import ApiError, Store


def _deployment(name: str = "myapp") -> dict[str, Any]:
    return {
        "metadata": {"name": name, "labels": {"app": name}},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": "app", "image": "nginx:1.25"}]},
            },
        },
    }


@pytest.fixture
def store() -> Store:
    s = Store()
    s.create("namespaces", None, {"metadata": {"name": "dev"}})
    return s


def test_create_fails_with_404_when_namespace_missing(store: Store) -> None:
    with pytest.raises(ApiError) as err:
        store.create("deployments", "nope", _deployment())
    assert err.value.code == 404
    assert err.value.message == 'namespaces "nope" not found'


def test_subscribers_see_every_write_in_order(store: Store) -> None:
    seen: list[tuple[str, str, str]] = []
    unsubscribe = store.subscribe(
        lambda t, p, o: seen.append((t, p, o["metadata"]["resourceVersion"]))
    )
    created = store.create("deployments", "dev", _deployment())
    store.replace_status("deployments", "dev", "myapp", {"replicas": 1})
    store.delete("deployments", "dev", "myapp")
    unsubscribe()
    store.create("deployments", "dev", _deployment("other"))
    rv = int(created["metadata"]["resourceVersion"])
    assert seen == [
        ("ADDED", "deployments", str(rv)),
        ("MODIFIED", "deployments", str(rv + 1)),
        ("DELETED", "deployments", str(rv + 2)),
    ]


def test_subscriber_may_write_to_the_store(store: Store) -> None:
    seen: list[str] = []

    def react(event_type: str, plural: str, obj: dict[str, Any]) -> None:
        seen.append(f"{event_type} {plural}")
        if plural == "deployments" and event_type == "ADDED":
            store.patch_status("deployments", "dev", obj["metadata"]["name"], {"replicas": 1})

    store.subscribe(react)
    store.create("deployments", "dev", _deployment())
    assert seen == ["ADDED deployments", "MODIFIED deployments"]
    assert store.get("deployments", "dev", "myapp")["status"] == {"replicas": 1}


def test_returned_objects_are_copies(store: Store) -> None:
    created = store.create("deployments", "dev", _deployment())
    created["spec"]["replicas"] = 7
    assert store.get("deployments", "dev", "myapp")["spec"]["replicas"] == 1


def test_noop_write_keeps_resource_version(store: Store) -> None:
    created = store.create("deployments", "dev", _deployment())
    again = store.replace("deployments", "dev", "myapp", created)
    assert again["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]


def test_deleting_namespace_deletes_its_objects(store: Store) -> None:
    store.create("deployments", "dev", _deployment())
    store.delete("namespaces", None, "dev")
    assert store.list("deployments")[0] == []
