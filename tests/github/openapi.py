"""GitHub's published REST description (@octokit/openapi, the version scripts/test fetches)
as response validators for the emulator's contract test.

The description is OpenAPI 3.0: `nullable: true` becomes a JSON Schema "null" alternative,
and schemas are checked with Draft 4 (whose `$ref` and `exclusiveMinimum` match OpenAPI 3.0).
A recorded exchange is matched to the description's path template and status; its body must
validate against that response's schema. Formats are not checked (GitHub's own answers carry
the same strings), only shapes and required fields.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

from sandbox.github.gateway import Exchange

VERSION = "23.0.2"  # scripts/test pins the same
FILE = Path(__file__).resolve().parents[2] / ".cache" / "octokit-openapi" / VERSION \
    / "api.github.com.json"
URI = "urn:github:rest"


def _nullable(node: Any) -> Any:
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _nullable(value) for key, value in node.items()}
    if out.get("nullable") is True:
        del out["nullable"]
        kind = out.get("type")
        if isinstance(kind, str):
            out["type"] = [kind, "null"]
            if "enum" in out and None not in out["enum"]:
                out["enum"] = [*out["enum"], None]
        else:
            return {"anyOf": [out, {"type": "null"}]}
    return out


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    spec: dict[str, Any]


class Description:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.registry: Registry[Any] = Registry().with_resource(
            URI, Resource.from_contents(document, default_specification=DRAFT4))
        self.operations: list[Operation] = []
        for template, item in document["paths"].items():
            for method, spec in item.items():
                if method in ("get", "put", "post", "patch", "delete"):
                    self.operations.append(Operation(method.upper(), template,
                                                     _pattern(template), spec))
        # The most literal templates first: /commits/{ref}/status before /commits/{ref}.
        self.operations.sort(key=lambda op: (-op.template.count("/"), op.template.count("{")))

    def operation(self, method: str, path: str) -> Operation | None:
        for op in self.operations:
            if op.method == method and op.pattern.match(path):
                return op
        return None

    def problems(self, exchange: Exchange) -> list[str]:
        """Why a recorded answer does not conform (empty when it does)."""
        where = f"{exchange.method} {exchange.path} -> {exchange.status}"
        op = self.operation(exchange.method, exchange.path)
        if op is None:
            return [f"{where}: no such operation in GitHub's description"]
        responses = op.spec.get("responses", {})
        answer = responses.get(str(exchange.status))
        if answer is None:
            return self._undocumented(exchange, where, sorted(responses))
        answer = self._resolve(answer)
        content = (answer.get("content") or {}).get("application/json")
        if content is None or "schema" not in content:
            # Undocumented bodies: an error is GitHub's basic error; a success has none (204).
            if exchange.body is None:
                return []
            if exchange.status >= 400:
                return self._validate(exchange, where, "/components/schemas/basic-error")
            return [f"{where}: GitHub answers without a body here"]
        return self._validate(exchange, where, self._pointer(op, str(exchange.status)))

    def _undocumented(self, exchange: Exchange, where: str, documented: list[str]) -> list[str]:
        """GitHub answers some statuses on every operation without documenting each: 304 to a
        conditional GET (no body), and 401/403/429/5xx with its basic error."""
        if exchange.status == 304 and exchange.method == "GET":
            return [] if exchange.body is None else [f"{where}: a 304 has no body"]
        if exchange.status in (401, 403, 429) or exchange.status >= 500:
            return self._validate(exchange, where, "/components/schemas/basic-error")
        return [f"{where}: status not documented (documented: {', '.join(documented)})"]

    def _validate(self, exchange: Exchange, where: str, pointer: str) -> list[str]:
        validator = jsonschema.Draft4Validator({"$ref": f"{URI}#{pointer}"},
                                               registry=self.registry)
        return [f"{where}: {'/'.join(str(p) for p in error.absolute_path) or '(body)'}: "
                f"{error.message[:300]}" for error in validator.iter_errors(exchange.body)]

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = self._at(node["$ref"].removeprefix("#"))
        return node

    def _at(self, pointer: str) -> dict[str, Any]:
        node: Any = self.document
        for part in pointer.strip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return dict(node)

    def _pointer(self, op: Operation, status: str) -> str:
        base = f"/paths/{_escape(op.template)}/{op.method.lower()}/responses/{status}"
        answer = op.spec["responses"][status]
        if "$ref" in answer:
            base = answer["$ref"].removeprefix("#")
        return f"{base}/content/application~1json/schema"


def _escape(part: str) -> str:
    return part.replace("~", "~0").replace("/", "~1")


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    regex = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
    return re.compile(f"^{regex}$")


@cache
def description() -> Description:
    if not FILE.exists():
        raise AssertionError(
            f"GitHub's REST description is missing ({FILE}): ./scripts/test fetches it "
            f"(npm pack @octokit/openapi@{VERSION}); run it once.")
    return Description(_nullable(json.loads(FILE.read_text())))
