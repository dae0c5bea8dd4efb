"""Reading the pipeline file's YAML: duplicate keys refused, every node's line remembered, and each
problem reported against its key path (`apps.myapp.environments[2].interval`), in file order.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

from slackbot.config.schema import KeyPath

# --------------------------------------------------------------------------- reading YAML


class _Loader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1's base-60 numbers, so that 17:00 stays the string "17:00",
    and without its timestamps, so that a freeze's 2026-12-20 stays the text it was."""


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag
        not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?0b[0-1_]+|[-+]?0[0-7_]+|[-+]?(?:0|[1-9][0-9_]*)|[-+]?0x[0-9a-fA-F_]+)$"),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?"
        r"|\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


@dataclass
class Report:
    """Problems found so far, with the YAML line of each key path to list them in file order."""

    lines: dict[KeyPath, int]
    found: list[tuple[KeyPath, str]]

    def add(self, path: KeyPath, message: str) -> None:
        if (path, message) not in self.found:
            self.found.append((path, message))

    def line_of(self, path: KeyPath) -> int:
        while path not in self.lines and path:
            path = path[:-1]
        return self.lines.get(path, 0)

    def sorted(self) -> list[str]:
        order = sorted(range(len(self.found)), key=lambda i: (self.line_of(self.found[i][0]), i))
        return [problem(*self.found[i]) for i in order]


def problem(path: KeyPath, message: str) -> str:
    return f"{key_path(path)}: {message}" if path else message


def key_path(path: KeyPath) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z0-9_-]+", part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text


def _map_lines(node: yaml.Node, path: KeyPath, report: Report) -> None:
    """Record the line of every key path; report duplicate keys (YAML would keep the last)."""
    report.lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.value == "<<":
                continue
            key = key_node.value
            report.lines.setdefault((*path, key), key_node.start_mark.line + 1)
            if key in seen:
                report.add(
                    (*path, key),
                    f"duplicate key (again on line {key_node.start_mark.line + 1}); "
                    "YAML would silently keep only the last one",
                )
            seen.add(key)
            _map_lines(value_node, (*path, key), report)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _map_lines(item, (*path, index), report)


def read_yaml(text: str, report: Report) -> Any:
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _map_lines(node, (), report)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        report.add((), f"{where}invalid YAML: {error.problem or error.context}")
        return None
    except yaml.YAMLError as error:
        report.add((), f"invalid YAML: {error}")
        return None
    finally:
        loader.dispose()


def clean(value: Any, path: KeyPath, report: Report) -> Any:
    """Null values count as absent (as in Kubernetes manifests); keys must be strings."""
    if isinstance(value, dict):
        cleaned: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                report.add((*path, str(key)), f"keys must be text, got {describe(key)}")
            elif item is not None:
                cleaned[key] = clean(item, (*path, key), report)
        return cleaned
    if isinstance(value, list):
        return [clean(item, (*path, index), report) for index, item in enumerate(value)]
    return value


TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "boolean": "true or false",
    "number": "a number",
}


def describe(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"{value} ({type(value).__name__})"
