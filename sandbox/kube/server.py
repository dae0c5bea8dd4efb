"""The emulated Kubernetes apiserver: real HTTP over the Store, for the python client and kubectl.

Routes discovery, CRUD, the three patch types, the /status subresource and watch streams
(chunked, one JSON event per line) onto sandbox.kube.store.Store, and turns every failure into
a Status object with the apiserver's code and reason. It must never crash on bad input and
must not hold state of its own beyond open watches; semantics live in the store.
"""

from __future__ import annotations

import base64
import json
import logging
import select
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import yaml

from sandbox.httpserver import BackgroundServer, HttpEmulator, QuietHandler
from sandbox.kube import discovery, tables
from sandbox.kube.errors import ApiError, bad_request, method_not_allowed, unsupported_media_type
from sandbox.kube.patching import APPLY_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH
from sandbox.kube.resources import BY_PLURAL, ResourceType, lookup
from sandbox.kube.store import Store, WatchStream

log = logging.getLogger(__name__)

_TRUE = {"1", "t", "T", "TRUE", "true", "True"}
_FALSE = {"0", "f", "F", "FALSE", "false", "False"}
_BODY_TYPES = ["application/json", "application/yaml", "application/vnd.kubernetes.protobuf"]
_NOT_FOUND = ApiError(404, "NotFound", "the server could not find the requested resource", {})


@dataclass(frozen=True)
class Target:
    """What a resource URL names."""

    rt: ResourceType
    namespace: str | None
    name: str | None
    subresource: str | None


def parse_bool(name: str, value: str) -> bool:
    """Go strconv.ParseBool, which the apiserver uses: True, true and 1 all mean true."""
    if value in _TRUE:
        return True
    if value in _FALSE or value == "":
        return False
    raise bad_request(f'strconv.ParseBool: parsing "{value}": invalid syntax for {name}')


def parse_target(path: str) -> Target | None:
    """Maps /api/v1/... and /apis/{g}/{v}/... resource paths; None when nothing matches."""
    parts = [unquote(p) for p in path.strip("/").split("/")]
    if parts[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", parts[2:]
    elif len(parts) >= 3 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace: str | None = None
    if len(rest) >= 3 and rest[0] == "namespaces":
        namespace, rest = rest[1], rest[2:]
        if group == "" and rest == ["status"]:
            return Target(BY_PLURAL["namespaces"], None, namespace, "status")
    if not rest or len(rest) > 3:
        return None
    rt = lookup(group, version, rest[0])
    if rt is None or (namespace is not None and not rt.namespaced):
        return None
    name = rest[1] if len(rest) >= 2 else None
    subresource = rest[2] if len(rest) == 3 else None
    if subresource is not None and (subresource != "status" or not rt.status_subresource):
        return None
    if name == "":
        return None
    return Target(rt, namespace, name, subresource)


class KubeApiServer(HttpEmulator):
    """An apiserver on 127.0.0.1 (port 0 by default) serving a Store.

    bookmark_interval: seconds between BOOKMARK events on watches that ask for them.
    max_watch_seconds: how long a watch without timeoutSeconds stays open.
    """

    def __init__(
        self,
        store: Store,
        host: str = "127.0.0.1",
        port: int = 0,
        bookmark_interval: float = 5.0,
        max_watch_seconds: float = 1800.0,
    ) -> None:
        self.store = store
        self.bookmark_interval = bookmark_interval
        self.max_watch_seconds = max_watch_seconds
        self._stopping = threading.Event()
        self._watches: set[WatchStream] = set()
        self._watches_lock = threading.Lock()
        api = self

        class Handler(_ApiHandler):
            server_api = api

        self._server = BackgroundServer(Handler, host=host, port=port)

    def stop(self) -> None:
        self._stopping.set()
        with self._watches_lock:
            watches = list(self._watches)
        for stream in watches:
            stream.close()
        super().stop()

    def _track(self, stream: WatchStream, add: bool) -> None:
        with self._watches_lock:
            if add:
                self._watches.add(stream)
            else:
                self._watches.discard(stream)


class _ApiHandler(QuietHandler):
    server_api: KubeApiServer

    def do_GET(self) -> None:
        self._safely(self._get)

    def do_POST(self) -> None:
        self._safely(self._post)

    def do_PUT(self) -> None:
        self._safely(self._put)

    def do_PATCH(self) -> None:
        self._safely(self._patch)

    def do_DELETE(self) -> None:
        self._safely(self._delete)

    def do_HEAD(self) -> None:
        self._safely(self._not_allowed)

    def do_OPTIONS(self) -> None:
        self._safely(self._not_allowed)

    # ------------------------------------------------------------ plumbing

    def _safely(self, action: Callable[[], None]) -> None:
        try:
            action()
        except ApiError as err:
            self._send_error(err)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except Exception:
            log.exception("kube emulator: internal error on %s %s", self.command, self.path)
            self._send_error(
                ApiError(
                    500,
                    "InternalError",
                    "an error on the server has prevented the request from succeeding",
                )
            )

    def _send_error(self, err: ApiError) -> None:
        try:
            self.send_json(err.code, err.status())
        except OSError:
            self.close_connection = True

    def _not_allowed(self) -> None:
        self.read_body()
        raise method_not_allowed()

    def _param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[-1] if values else None

    def _flag(self, name: str) -> bool:
        value = self._param(name)
        return value is not None and parse_bool(name, value)

    def _target(self) -> Target:
        target = parse_target(self.path_only)
        if target is None:
            raise _NOT_FOUND
        return target

    def _media_type(self) -> str:
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def _body(self, patch: bool = False) -> Any:
        raw = self.read_body()
        media = self._media_type()
        if not patch and media not in ("", "application/json", "application/yaml", "*/*"):
            raise unsupported_media_type(media, _BODY_TYPES)
        if not raw.strip():
            raise bad_request("the body of the request was empty")
        try:
            if media in ("application/yaml", APPLY_PATCH):
                return yaml.safe_load(raw.decode("utf-8"))
            return json.loads(raw)
        except (ValueError, yaml.YAMLError) as exc:
            prefix = "" if patch else "couldn't get version/kind; json parse error: "
            raise bad_request(f"{prefix}{_short(exc)}") from None

    def _send_object(self, status: int, obj: dict[str, Any]) -> None:
        accept = self.headers.get("Accept") or ""
        if tables.wants_table(accept):
            rv = str(obj.get("metadata", {}).get("resourceVersion", ""))
            plural = self._target().rt.plural
            self.send_json(
                status, tables.table_for([obj], rv, tables.include_object(self.query), plural)
            )
            return
        self.send_json(status, obj)

    # ------------------------------------------------------------ verbs

    def _get(self) -> None:
        path = self.path_only.rstrip("/") or "/"
        if path in ("/healthz", "/readyz", "/livez"):
            self.send_bytes(200, b"ok", "text/plain")
            return
        doc = self._discovery(path)
        if doc is not None:
            self.send_json(200, doc)
            return
        target = self._target()
        store = self.server_api.store
        if target.name is None:
            if self._flag("watch"):
                self._watch(target)
            else:
                self._list(target)
            return
        obj = store.get(target.rt.plural, target.namespace, target.name)
        self._send_object(200, obj)

    def _discovery(self, path: str) -> dict[str, Any] | None:
        host = self.headers.get("Host") or self.server_api.url.split("//", 1)[1]
        if path == "/version":
            return dict(discovery.VERSION_INFO)
        if path == "/api":
            return discovery.api_versions(host)
        if path == "/apis":
            return discovery.api_group_list()
        parts = path.strip("/").split("/")
        if parts == ["api", "v1"]:
            return discovery.api_resource_list("", "v1")
        if len(parts) == 2 and parts[0] == "apis":
            group = discovery.api_group(parts[1])
            if group is None:
                raise _NOT_FOUND
            return group
        if len(parts) == 3 and parts[0] == "apis":
            resources = discovery.api_resource_list(parts[1], parts[2])
            if resources is None:
                raise _NOT_FOUND
            return resources
        return None

    def _list(self, target: Target) -> None:
        rt = target.rt
        items, rv = self.server_api.store.list(
            rt.plural, target.namespace, self._param("labelSelector"), self._param("fieldSelector")
        )
        metadata: dict[str, Any] = {"resourceVersion": rv}
        items = self._page(items, metadata)
        if tables.wants_table(self.headers.get("Accept") or ""):
            table = tables.table_for(items, rv, tables.include_object(self.query), rt.plural)
            table["metadata"].update({k: v for k, v in metadata.items() if k != "resourceVersion"})
            self.send_json(200, table)
            return
        self.send_json(
            200,
            {
                "kind": rt.list_kind,
                "apiVersion": rt.api_version,
                "metadata": metadata,
                "items": items,
            },
        )

    def _page(self, items: list[dict[str, Any]], metadata: dict[str, Any]) -> list[dict[str, Any]]:
        offset = 0
        token = self._param("continue")
        if token:
            try:
                offset = int(base64.urlsafe_b64decode(token.encode()).decode())
            except ValueError:
                raise bad_request("continue key is not valid: illegal base64 data") from None
        limit_text = self._param("limit")
        limit = int(limit_text) if limit_text and limit_text.isdigit() else 0
        page = items[offset : offset + limit] if limit > 0 else items[offset:]
        if limit > 0 and offset + limit < len(items):
            metadata["continue"] = base64.urlsafe_b64encode(str(offset + limit).encode()).decode()
            metadata["remainingItemCount"] = len(items) - offset - limit
        return page

    def _post(self) -> None:
        target = self._target()
        if target.name is not None:
            self.read_body()
            raise method_not_allowed()
        body = self._body()
        created = self.server_api.store.create(target.rt.plural, target.namespace, body)
        self._send_object(201, created)

    def _put(self) -> None:
        target = self._target()
        if target.name is None:
            self.read_body()
            raise method_not_allowed()
        body = self._body()
        store = self.server_api.store
        if target.subresource == "status":
            if not isinstance(body, dict):
                raise bad_request("the body of the request must be an object")
            updated = store.write_subresource_status(
                target.rt.plural, target.namespace, target.name, lambda current: body
            )
        else:
            updated = store.replace(target.rt.plural, target.namespace, target.name, body)
        self._send_object(200, updated)

    def _patch(self) -> None:
        target = self._target()
        if target.name is None:
            self.read_body()
            raise method_not_allowed()
        media = self._media_type()
        store, rt = self.server_api.store, target.rt
        from sandbox.kube.admission import accepted_patch_types

        if media not in accepted_patch_types(rt):
            self.read_body()
            raise unsupported_media_type(media, accepted_patch_types(rt))
        body = self._body(patch=True)
        if media == APPLY_PATCH:
            updated = self._apply(target, body)
        elif target.subresource == "status":
            updated = store.patch_subresource_status(
                rt.plural, target.namespace, target.name, body, media
            )
        else:
            updated = store.patch(rt.plural, target.namespace, target.name, body, media)
        self._send_object(200, updated)

    def _apply(self, target: Target, body: Any) -> dict[str, Any]:
        """Server-side apply, approximated: create when missing, else merge the applied fields."""
        if not self._param("fieldManager"):
            raise bad_request("PATCH, application/apply-patch+yaml requests require fieldManager")
        store, rt = self.server_api.store, target.rt
        assert target.name is not None
        patch_type = STRATEGIC_MERGE_PATCH if rt.builtin else MERGE_PATCH
        try:
            store.get(rt.plural, target.namespace, target.name)
        except ApiError as err:
            if err.code != 404 or target.subresource:
                raise
            return store.create(rt.plural, target.namespace, body)
        if target.subresource == "status":
            return store.patch_subresource_status(
                rt.plural, target.namespace, target.name, body, patch_type
            )
        return store.patch(rt.plural, target.namespace, target.name, body, patch_type)

    def _delete(self) -> None:
        target = self._target()
        raw = self.read_body()
        store, rt = self.server_api.store, target.rt
        if target.subresource is not None:
            raise method_not_allowed()
        options: Any = {}
        if raw.strip():
            try:
                options = json.loads(raw)
            except ValueError as exc:
                raise bad_request(
                    f"couldn't get version/kind; json parse error: {_short(exc)}"
                ) from None
        if target.name is None:
            items, _ = store.list(
                rt.plural,
                target.namespace,
                self._param("labelSelector"),
                self._param("fieldSelector"),
            )
            for item in items:
                meta = item["metadata"]
                store.delete(rt.plural, meta.get("namespace"), meta["name"])
            self.send_json(
                200,
                {
                    "kind": rt.list_kind,
                    "apiVersion": rt.api_version,
                    "metadata": {"resourceVersion": store.resource_version},
                    "items": items,
                },
            )
            return
        self._check_preconditions(target, options)
        deleted = store.delete(rt.plural, target.namespace, target.name)
        if rt.builtin and rt.plural != "pods":
            meta = deleted["metadata"]
            details = {"name": meta["name"], "kind": rt.plural, "uid": meta.get("uid")}
            if rt.group:
                details["group"] = rt.group
            self.send_json(
                200,
                {
                    "kind": "Status",
                    "apiVersion": "v1",
                    "metadata": {},
                    "status": "Success",
                    "details": details,
                },
            )
            return
        self.send_json(200, deleted)

    def _check_preconditions(self, target: Target, options: Any) -> None:
        pre = options.get("preconditions") if isinstance(options, dict) else None
        if not isinstance(pre, dict):
            return
        assert target.name is not None
        current = self.server_api.store.get(target.rt.plural, target.namespace, target.name)
        meta = current["metadata"]
        for key, label in (("uid", "UID"), ("resourceVersion", "ResourceVersion")):
            wanted = pre.get(key)
            if wanted and wanted != meta.get(key):
                message = (
                    f"Precondition failed: {label} in precondition: {wanted}, "
                    f"{label} in object meta: {meta.get(key)}"
                )
                raise ApiError(
                    409, "Conflict", message, {"name": target.name, "kind": target.rt.plural}
                )

    # ------------------------------------------------------------ watch

    def _watch(self, target: Target) -> None:
        api = self.server_api
        rt = target.rt
        timeout_text = self._param("timeoutSeconds")
        try:
            timeout = float(timeout_text) if timeout_text else 0.0
        except ValueError:
            raise bad_request(f"invalid timeoutSeconds: {timeout_text!r}") from None
        if timeout <= 0:  # 0 or absent: the server's own limit, as the apiserver does
            timeout = api.max_watch_seconds
        bookmarks = self._flag("allowWatchBookmarks")
        # WatchList (kubectl 1.3x's informers): the current objects as ADDED events, then a
        # BOOKMARK annotated k8s.io/initial-events-end, then the changes from there on.
        initial: list[dict[str, Any]] = []
        since = self._param("resourceVersion")
        if self._flag("sendInitialEvents"):
            initial, since = api.store.list(
                rt.plural, target.namespace, self._param("labelSelector"),
                self._param("fieldSelector"),
            )
        stream: WatchStream | None = None
        error: ApiError | None = None
        try:
            stream = api.store.watch(
                rt.plural,
                target.namespace,
                since,
                self._param("labelSelector"),
                self._param("fieldSelector"),
            )
        except ApiError as err:
            if err.code != 410:
                raise
            error = err
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Cache-Control", "no-cache, private")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        # The stream ends with the terminating chunk; the connection then stays usable,
        # as with the real apiserver (clients return it to their pool).
        if error is not None:
            self._chunk({"type": "ERROR", "object": error.status()})
            self._chunk(None)
            return
        assert stream is not None
        api._track(stream, True)
        try:
            if self._flag("sendInitialEvents"):
                for item in initial:
                    self._chunk({"type": "ADDED", "object": item})
                self._chunk({"type": "BOOKMARK", "object": {
                    "kind": rt.kind, "apiVersion": rt.api_version,
                    "metadata": {"resourceVersion": since,
                                 "annotations": {"k8s.io/initial-events-end": "true"}}}})
            self._pump(stream, rt, time.monotonic() + max(timeout, 0.0), bookmarks)
            self._chunk(None)
        except OSError:
            self.close_connection = True
        finally:
            api._track(stream, False)
            stream.close()

    def _pump(
        self, stream: WatchStream, rt: ResourceType, deadline: float, bookmarks: bool
    ) -> None:
        api = self.server_api
        interval = max(api.bookmark_interval, 0.01)
        next_bookmark = time.monotonic() + interval
        next_liveness = time.monotonic() + 1.0
        while not api._stopping.is_set():
            now = time.monotonic()
            if now >= deadline:
                return
            wait = min(deadline - now, 0.5, (next_bookmark - now) if bookmarks else 0.5)
            item = stream.next(wait)
            if item is not None:
                self._chunk({"type": item[0], "object": item[1]})
                continue
            if stream.closed:
                return
            now = time.monotonic()
            if bookmarks and now >= next_bookmark:
                rv = stream.bookmark_version()
                if rv is not None:
                    self._chunk(
                        {
                            "type": "BOOKMARK",
                            "object": {
                                "kind": rt.kind,
                                "apiVersion": rt.api_version,
                                "metadata": {"resourceVersion": rv},
                            },
                        }
                    )
                next_bookmark = now + interval
            if now >= next_liveness:
                if self._peer_gone():
                    raise ConnectionResetError("watch client went away")
                next_liveness = now + 1.0

    def _chunk(self, event: dict[str, Any] | None) -> None:
        if event is None:
            self.wfile.write(b"0\r\n\r\n")
        else:
            data = json.dumps(event).encode() + b"\n"
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _peer_gone(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            return bool(self.connection.recv(1, socket.MSG_PEEK) == b"")
        except OSError:
            return True


def _short(exc: Exception) -> str:
    return str(exc).splitlines()[0][:300]


__all__ = ["KubeApiServer", "parse_bool", "parse_target"]
