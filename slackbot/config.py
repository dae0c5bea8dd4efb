"""The pipeline file: YAML in, a validated `Pipeline` out, and the effective pipeline back as YAML.

It exists so that a bad pipeline stops start-up with EVERY problem listed, each naming its key
path (`apps.myapp.environments[2].interval: expected a duration like 5m, got "five"`): a JSON
schema checks the structure, our own checks the meaning. It only reads text and files; it must
not talk to Slack, GitHub or the cluster, nor read the process environment (settings.py does).
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import time, timedelta
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import jsonschema
import yaml

from slackbot.errors import ConfigError
from slackbot.pipeline import (
    WEEKDAYS,
    App,
    ChangeWindow,
    Channels,
    Environment,
    FluxRef,
    Gates,
    Groups,
    Pipeline,
)

__all__ = [
    "DEFAULT_INTERVAL",
    "DEFAULT_TIMEOUT",
    "ConfigError",
    "check_pipeline",
    "default_pipeline_text",
    "dump_pipeline",
    "format_duration",
    "load_pipeline",
    "parse_duration",
    "parse_pipeline",
    "pipeline_schema",
]

# Defaults for keys left out (documented in examples/pipeline.yaml). The interval has a default
# rather than being required: 1m is the seed's fastest sync and only informs the bot's waits.
DEFAULT_INTERVAL = timedelta(minutes=1)
DEFAULT_TIMEOUT = timedelta(minutes=3)
DEFAULT_FLUX_NAMESPACE = "flux-system"
DEFAULT_TIMEZONE = "UTC"

DURATION_PATTERN = r"^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$"  # Flux's (api-facts.md, 3.2)
_DURATION_PART = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)")
_UNIT_MICROSECONDS = {"h": 3_600_000_000, "m": 60_000_000, "s": 1_000_000, "ms": 1_000}
_DAY = "(?:mon|tue|wed|thu|fri|sat|sun)"
DAY_PATTERN = rf"^{_DAY}(?:-{_DAY})?$"
_TIME = r"(?:[01]?[0-9]|2[0-3]):[0-5][0-9]"
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
DNS_SUBDOMAIN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
BRANCH = r"^(?!-)(?!.*\.\.)(?!.*//)(?!.*@\{)[A-Za-z0-9._/+-]+(?<![/.])(?<!\.lock)$"

KeyPath = tuple[str | int, ...]


# --------------------------------------------------------------------------- the schema


def _string(pattern: str, expected: str, max_length: int | None = None) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string", "pattern": pattern, "x-expected": expected}
    if max_length is not None:
        schema["maxLength"] = max_length
    return schema


_DURATION = _string(DURATION_PATTERN, "a duration like 5m")
_LABEL = _string(DNS_LABEL, "a lowercase name like my-app (a-z, 0-9, '-'; at most 63)", 63)
_OBJECT_NAME = _string(DNS_SUBDOMAIN, "a Kubernetes object name like myapp-dev", 253)
_COUNT = {"type": "integer", "minimum": 0, "x-expected": "a whole number >= 0"}
_FLUX_REF = {
    "type": "object",
    "x-expected": "a mapping like {name: myapp-dev, namespace: flux-system}",
    "additionalProperties": False,
    "properties": {"name": _OBJECT_NAME, "namespace": _LABEL},
}
_WINDOW = {
    "type": "object",
    "x-expected": 'a mapping like {days: [mon-fri], start: "09:00", end: "17:00"}',
    "additionalProperties": False,
    "required": ["start", "end"],
    "properties": {
        "days": {
            "type": ["array", "string"],
            "pattern": DAY_PATTERN,
            "minItems": 1,
            "items": _string(DAY_PATTERN, "a day (mon..sun) or a range like mon-fri"),
            "x-expected": "a list of days (mon..sun) or ranges like [mon-fri]",
        },
        "start": _string(rf"^{_TIME}$", 'a time like "09:00"'),
        "end": _string(rf"^(?:{_TIME}|24:00)$", 'a time like "17:00" (or "24:00")'),
        "timezone": {"type": "string", "x-expected": "an IANA time zone like Europe/London"},
    },
}
_GATES = {
    "type": "object",
    "x-expected": "a mapping of gates (requiredChecks, requiredReviews, ...)",
    "additionalProperties": False,
    "properties": {
        "requiredChecks": {
            "type": "array",
            "uniqueItems": True,
            "items": _string(r"\S", "a check name like ci"),
            "x-expected": "a list of check names like [ci]",
        },
        "requiredReviews": _COUNT,
        "stakeholderApprovals": _COUNT,
        "rollbackPlan": {"type": "boolean", "x-expected": "true or false"},
        "changeWindows": {
            "type": "array",
            "items": _WINDOW,
            "x-expected": "a list of change windows",
        },
    },
}
_ENVIRONMENT = {
    "type": "object",
    "x-expected": "a mapping with at least a name",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": _LABEL,
        "branch": _string(BRANCH, "a git branch name like staging"),
        "namespace": _LABEL,
        "kustomization": _FLUX_REF,
        "gitRepository": _FLUX_REF,
        "interval": _DURATION,
        "timeout": _DURATION,
        "gates": _GATES,
    },
}
_APP = {
    "type": "object",
    "x-expected": "a mapping with repository, channels and environments",
    "additionalProperties": False,
    "required": ["repository", "channels", "environments"],
    "properties": {
        "repository": _string(
            r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$", "a GitHub repository as owner/name"
        ),
        "channels": {
            "type": "object",
            "x-expected": "a mapping like {deploys: C0123, incidents: C0456}",
            "additionalProperties": False,
            "required": ["deploys", "incidents"],
            "properties": {
                name: _string(
                    r"^#?[A-Za-z0-9][A-Za-z0-9_.-]*$", "a Slack channel id like C0123ABCD"
                )
                for name in ("deploys", "incidents")
            },
        },
        "groups": {
            "type": "object",
            "x-expected": "a mapping like {stakeholders: S0123, oncall: S0456}",
            "additionalProperties": False,
            "properties": {
                name: _string(r"^S[A-Z0-9]+$", "a Slack user group id like S0123ABCD")
                for name in ("stakeholders", "oncall")
            },
        },
        "deployments": {
            "type": "array",
            "uniqueItems": True,
            "items": _OBJECT_NAME,
            "x-expected": "a list of Deployment names like [myapp]",
        },
        "environments": {
            "type": "array",
            "minItems": 1,
            "items": _ENVIRONMENT,
            "x-expected": "a list of environments, in promotion order",
        },
    },
}
_PIPELINE = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "promotebot pipeline",
    "type": "object",
    "x-expected": "a mapping with an apps key",
    "additionalProperties": False,
    "required": ["apps"],
    "properties": {
        "apps": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": _LABEL,
            "additionalProperties": _APP,
            "x-expected": "a mapping of app names to apps",
        }
    },
}


def pipeline_schema() -> dict[str, Any]:
    """The JSON schema of the pipeline file (structure only; config.py checks the meaning too)."""
    schema: dict[str, Any] = json.loads(json.dumps(_PIPELINE))
    return schema


# --------------------------------------------------------------------------- reading YAML


class _Loader(yaml.SafeLoader):
    """SafeLoader without YAML 1.1's base-60 numbers, so that 17:00 stays the string "17:00"."""


_Loader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float")
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
class _Report:
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
        return [_format(*self.found[i]) for i in order]


def _format(path: KeyPath, message: str) -> str:
    return f"{_key_path(path)}: {message}" if path else message


def _key_path(path: KeyPath) -> str:
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z0-9_-]+", part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part)}]"
    return text


def _map_lines(node: yaml.Node, path: KeyPath, report: _Report) -> None:
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


def _read_yaml(text: str, report: _Report) -> Any:
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


def _clean(value: Any, path: KeyPath, report: _Report) -> Any:
    """Null values count as absent (as in Kubernetes manifests); keys must be strings."""
    if isinstance(value, dict):
        cleaned: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                report.add((*path, str(key)), f"keys must be text, got {_describe(key)}")
            elif item is not None:
                cleaned[key] = _clean(item, (*path, key), report)
        return cleaned
    if isinstance(value, list):
        return [_clean(item, (*path, index), report) for index, item in enumerate(value)]
    return value


# --------------------------------------------------------------------------- structure

_TYPE_WORDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "integer": "a whole number",
    "boolean": "true or false",
    "number": "a number",
}


def _describe(value: Any) -> str:
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


def _expected(error: jsonschema.ValidationError) -> str:
    if "x-expected" in error.schema:
        return str(error.schema["x-expected"])
    types = error.schema.get("type", "a value")
    names = types if isinstance(types, list) else [types]
    return " or ".join(_TYPE_WORDS.get(str(name), str(name)) for name in names)


def _suggest(key: str, choices: Iterable[str]) -> str:
    options = sorted(choices)
    close = difflib.get_close_matches(key, options, n=1, cutoff=0.5)
    if close:
        return f'unknown key; did you mean "{close[0]}"?'
    return "unknown key; expected one of: " + ", ".join(options)


def _structure(data: Any, report: _Report) -> None:
    validator = jsonschema.Draft202012Validator(_PIPELINE)
    for error in validator.iter_errors(data):
        path: KeyPath = tuple(error.absolute_path)
        kind = error.validator
        if kind == "additionalProperties":
            known = error.schema.get("properties", {})
            for key in error.instance:
                if key not in known:
                    report.add((*path, key), _suggest(key, known))
        elif kind == "required":
            for key in error.validator_value:
                if key not in error.instance:
                    report.add((*path, key), "required key is missing")
        elif "propertyNames" in error.relative_schema_path:
            report.add(
                (*path, error.instance),
                f"expected {_expected(error)} as the name, got {_describe(error.instance)}",
            )
        elif kind in ("minItems", "minProperties"):
            report.add(path, f"expected {_expected(error)}, got an empty one")
        elif kind == "uniqueItems":
            twice = sorted({str(x) for x in error.instance if error.instance.count(x) > 1})
            report.add(path, "listed more than once: " + ", ".join(twice))
        elif kind == "minimum":
            report.add(path, f"expected {_expected(error)}, got {_describe(error.instance)}")
        else:  # type, pattern, maxLength, ...
            report.add(path, f"expected {_expected(error)}, got {_describe(error.instance)}")


# --------------------------------------------------------------------------- meaning


def parse_duration(text: str) -> timedelta:
    """A Flux duration (`1m`, `1h30m`, `500ms`, `1.5s`) as a timedelta; ValueError if not one."""
    if not re.fullmatch(DURATION_PATTERN, text):
        raise ValueError(f"not a duration: {text!r}")
    micro = sum(
        Decimal(number) * _UNIT_MICROSECONDS[unit] for number, unit in _DURATION_PART.findall(text)
    )
    return timedelta(microseconds=int(micro))


def format_duration(value: timedelta) -> str:
    """The shortest Flux duration for `value` (`90s` -> `1m30s`); parse_duration inverts it."""
    micro = value // timedelta(microseconds=1)
    if micro < 0:
        raise ValueError("negative duration")
    hours, micro = divmod(micro, _UNIT_MICROSECONDS["h"])
    minutes, micro = divmod(micro, _UNIT_MICROSECONDS["m"])
    seconds, micro = divmod(micro, _UNIT_MICROSECONDS["s"])
    parts = [f"{n}{unit}" for n, unit in ((hours, "h"), (minutes, "m"), (seconds, "s")) if n]
    if micro:
        millis, rest = divmod(micro, 1000)
        parts.append(f"{millis}.{rest:03d}".rstrip("0").rstrip(".") + "ms")
    return "".join(parts) or "0s"


def parse_days(spec: str | Sequence[str]) -> tuple[str, ...]:
    """`[mon-fri, sun]` or `"mon-fri"` as days in week order; a range may wrap (fri-mon)."""
    items = [spec] if isinstance(spec, str) else list(spec)
    chosen: set[str] = set()
    for item in items:
        if not re.fullmatch(DAY_PATTERN, item):
            raise ValueError(f"not a day: {item!r}")
        first, _, last = item.partition("-")
        start, stop = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        for step in range((stop - start) % 7 + 1):
            chosen.add(WEEKDAYS[(start + step) % 7])
    return tuple(day for day in WEEKDAYS if day in chosen)


def _format_days(days: Sequence[str]) -> list[str]:
    """Days back as a short list: runs of three or more become ranges (mon-fri)."""
    indexes = sorted(WEEKDAYS.index(day) for day in days)
    runs: list[list[int]] = []
    for index in indexes:
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    out: list[str] = []
    for run in runs:
        if len(run) >= 3:
            out.append(f"{WEEKDAYS[run[0]]}-{WEEKDAYS[run[-1]]}")
        else:
            out.extend(WEEKDAYS[i] for i in run)
    return out


def _parse_time(text: str) -> time:
    if text == "24:00":
        return time(0, 0)  # midnight: the end of the day, as ChangeWindow documents
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _minutes(text: str) -> int:
    hours, minutes = text.split(":")
    return int(hours) * 60 + int(minutes)


def _zone_problem(name: str) -> str | None:
    try:
        ZoneInfo(name)
        return None
    except (ZoneInfoNotFoundError, ValueError):
        pass
    close = difflib.get_close_matches(name, sorted(available_timezones()), n=1, cutoff=0.6)
    hint = f'; did you mean "{close[0]}"?' if close else ""
    return f"expected an IANA time zone like Europe/London, got {_describe(name)}{hint}"


def _items(value: Any) -> list[tuple[int, dict[str, Any]]]:
    if not isinstance(value, list):
        return []
    return [(index, item) for index, item in enumerate(value) if isinstance(item, dict)]


def _meaning(data: Any, report: _Report) -> None:
    """The checks a schema cannot say; each looks only at values of the right type."""
    apps = data.get("apps") if isinstance(data, dict) else None
    if not isinstance(apps, dict):
        return
    for app_name, app in apps.items():
        if isinstance(app, dict):
            _check_app(app_name, app, report)


def _check_app(app_name: str, app: dict[str, Any], report: _Report) -> None:
    groups = app.get("groups")
    has_stakeholders = isinstance(groups, dict) and bool(groups.get("stakeholders"))
    seen: dict[str, dict[str, int]] = {"name": {}, "branch": {}, "kustomization": {}}
    for index, env in _items(app.get("environments")):
        path: KeyPath = ("apps", app_name, "environments", index)
        name = env.get("name")
        if not isinstance(name, str):
            continue
        kustomization = env.get("kustomization")
        kustomization = kustomization if isinstance(kustomization, dict) else {}
        effective = {
            "name": name,
            "branch": env.get("branch", name),
            "kustomization": "{}/{}".format(
                kustomization.get("namespace", DEFAULT_FLUX_NAMESPACE),
                kustomization.get("name", f"{app_name}-{name}"),
            ),
        }
        name_taken = seen["name"].get(name, index) != index
        for key, value in effective.items():
            if not isinstance(value, str) or (key != "name" and name_taken):
                continue  # a duplicate name is one mistake, not three
            if value in seen[key]:
                report.add(
                    (*path, key),
                    f"{key} {json.dumps(value)} is already used by "
                    f"environments[{seen[key][value]}]; each environment needs its own",
                )
            else:
                seen[key][value] = index
        for key in ("interval", "timeout"):
            value = env.get(key)
            if (
                isinstance(value, str)
                and re.fullmatch(DURATION_PATTERN, value)
                and parse_duration(value) <= timedelta(0)
            ):
                report.add(
                    (*path, key), f"expected a positive duration like 5m, got {_describe(value)}"
                )
        gates = env.get("gates")
        if isinstance(gates, dict):
            _check_gates(gates, (*path, "gates"), has_stakeholders, report)


def _check_gates(
    gates: dict[str, Any], path: KeyPath, has_stakeholders: bool, report: _Report
) -> None:
    approvals = gates.get("stakeholderApprovals")
    if (
        isinstance(approvals, int)
        and not isinstance(approvals, bool)
        and approvals > 0
        and not has_stakeholders
    ):
        report.add(
            (*path, "stakeholderApprovals"),
            f"needs {_key_path((*path[:2], 'groups', 'stakeholders'))} "
            "(the Slack user group whose members approve), but the app has none",
        )
    for number, window in _items(gates.get("changeWindows")):
        _check_window(window, (*path, "changeWindows", number), report)


def _check_window(window: dict[str, Any], path: KeyPath, report: _Report) -> None:
    zone = window.get("timezone")
    if isinstance(zone, str):
        problem = _zone_problem(zone)
        if problem:
            report.add((*path, "timezone"), problem)
    start, end = window.get("start"), window.get("end")
    if (
        isinstance(start, str)
        and re.fullmatch(_TIME, start)
        and isinstance(end, str)
        and re.fullmatch(rf"{_TIME}|24:00", end)
        and _minutes(start) >= _minutes(end)
    ):
        report.add(
            path,
            f"start {start} must be before end {end} (a window cannot cross "
            "midnight: use two windows, and 24:00 for the end of a day)",
        )


# --------------------------------------------------------------------------- building


def _flux_ref(spec: Mapping[str, Any] | None, default_name: str) -> FluxRef:
    spec = spec or {}
    return FluxRef(spec.get("name", default_name), spec.get("namespace", DEFAULT_FLUX_NAMESPACE))


def _window(spec: Mapping[str, Any]) -> ChangeWindow:
    return ChangeWindow(
        days=parse_days(spec.get("days", list(WEEKDAYS))),
        start=_parse_time(spec["start"]),
        end=_parse_time(spec["end"]),
        timezone=spec.get("timezone", DEFAULT_TIMEZONE),
    )


def _gates(spec: Mapping[str, Any]) -> Gates:
    return Gates(
        required_checks=tuple(spec.get("requiredChecks", ())),
        required_reviews=spec.get("requiredReviews", 0),
        stakeholder_approvals=spec.get("stakeholderApprovals", 0),
        rollback_plan=spec.get("rollbackPlan", False),
        change_windows=tuple(_window(w) for w in spec.get("changeWindows", ())),
    )


def _environment(app: str, spec: Mapping[str, Any]) -> Environment:
    name = spec["name"]
    return Environment(
        name=name,
        branch=spec.get("branch", name),
        namespace=spec.get("namespace", name),
        kustomization=_flux_ref(spec.get("kustomization"), f"{app}-{name}"),
        git_repository=_flux_ref(spec.get("gitRepository"), f"{app}-{name}"),
        interval=parse_duration(spec["interval"]) if "interval" in spec else DEFAULT_INTERVAL,
        timeout=parse_duration(spec["timeout"]) if "timeout" in spec else DEFAULT_TIMEOUT,
        gates=_gates(spec.get("gates", {})),
    )


def _build(data: Mapping[str, Any]) -> Pipeline:
    apps: dict[str, App] = {}
    for name, spec in data["apps"].items():
        groups = spec.get("groups", {})
        apps[name] = App(
            name=name,
            repository=spec["repository"],
            channels=Channels(spec["channels"]["deploys"], spec["channels"]["incidents"]),
            groups=Groups(groups.get("stakeholders", ""), groups.get("oncall", "")),
            environments=tuple(_environment(name, env) for env in spec["environments"]),
            deployments=tuple(spec.get("deployments", (name,))),
        )
    return Pipeline(apps=apps)


# --------------------------------------------------------------------------- public API


def _validate(text: str) -> tuple[Any, list[str]]:
    report = _Report(lines={}, found=[])
    raw = _read_yaml(text, report)
    if report.found:
        return None, report.sorted()
    if raw is None:
        return None, ["the file is empty: expected a mapping with an apps key"]
    data = _clean(raw, (), report)
    _structure(data, report)
    _meaning(data, report)
    return data, report.sorted()


def check_pipeline(text: str) -> list[str]:
    """Every problem of a pipeline file's text, in file order, each as `key.path: message`."""
    return _validate(text)[1]


def parse_pipeline(text: str, source: str = "<pipeline>") -> Pipeline:
    """The pipeline in `text`; ConfigError listing every problem (prefixed by `source`) if bad."""
    data, problems = _validate(text)
    if problems:
        raise ConfigError([f"{source}: {problem}" for problem in problems])
    return _build(data)


def default_pipeline_text() -> str:
    """The built-in pipeline file (slackbot/default-pipeline.yaml): the seed's workflow."""
    return resources.files("slackbot").joinpath("default-pipeline.yaml").read_text("utf-8")


def load_pipeline(path: str | Path | None) -> Pipeline:
    """The pipeline in the file at `path`, or the built-in default when `path` is None."""
    if path is None:
        return parse_pipeline(default_pipeline_text(), "built-in default pipeline")
    try:
        text = Path(path).read_text("utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such file"]) from None
    except IsADirectoryError:
        raise ConfigError([f"{path}: is a directory, not a pipeline file"]) from None
    except (OSError, UnicodeDecodeError) as error:
        reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
        raise ConfigError([f"{path}: cannot read: {reason}"]) from error
    return parse_pipeline(text, str(path))


def _time_text(value: time, end: bool) -> str:
    return "24:00" if end and value == time(0, 0) else value.strftime("%H:%M")


def _pipeline_data(pipeline: Pipeline) -> dict[str, Any]:
    apps: dict[str, Any] = {}
    for app in pipeline.apps.values():
        groups = {
            k: v
            for k, v in (("stakeholders", app.groups.stakeholders), ("oncall", app.groups.oncall))
            if v
        }
        spec: dict[str, Any] = {
            "repository": app.repository,
            "channels": {"deploys": app.channels.deploys, "incidents": app.channels.incidents},
        }
        if groups:
            spec["groups"] = groups
        spec["deployments"] = list(app.deployment_names)
        spec["environments"] = [_environment_data(env) for env in app.environments]
        apps[app.name] = spec
    return {"apps": apps}


def _environment_data(env: Environment) -> dict[str, Any]:
    gates = env.gates
    return {
        "name": env.name,
        "branch": env.branch,
        "namespace": env.namespace,
        "kustomization": {"name": env.kustomization.name, "namespace": env.kustomization.namespace},
        "gitRepository": {
            "name": env.git_repository.name,
            "namespace": env.git_repository.namespace,
        },
        "interval": format_duration(env.interval),
        "timeout": format_duration(env.timeout),
        "gates": {
            "requiredChecks": list(gates.required_checks),
            "requiredReviews": gates.required_reviews,
            "stakeholderApprovals": gates.stakeholder_approvals,
            "rollbackPlan": gates.rollback_plan,
            "changeWindows": [
                {
                    "days": _format_days(window.days),
                    "start": _Quoted(_time_text(window.start, end=False)),
                    "end": _Quoted(_time_text(window.end, end=True)),
                    "timezone": window.timezone,
                }
                for window in gates.change_windows
            ],
        },
    }


class _Quoted(str):
    """Text always written in double quotes (times: 17:00 unquoted is a base-60 int in YAML 1.1)."""


class _Dumper(yaml.SafeDumper):
    """Block style, but short lists of scalars and small flat mappings on one line."""


def _represent_list(dumper: yaml.SafeDumper, value: list[Any]) -> yaml.Node:
    flat = all(isinstance(item, str | int) for item in value)
    return dumper.represent_sequence("tag:yaml.org,2002:seq", value, flow_style=flat)


def _represent_dict(dumper: yaml.SafeDumper, value: dict[str, Any]) -> yaml.Node:
    flat = len(value) <= 4 and all(isinstance(v, str) for v in value.values())
    return dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=flat)


def _represent_quoted(dumper: yaml.SafeDumper, value: _Quoted) -> yaml.Node:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style='"')


_Dumper.add_representer(_Quoted, _represent_quoted)
_Dumper.add_representer(list, _represent_list)
_Dumper.add_representer(dict, _represent_dict)


def dump_pipeline(pipeline: Pipeline) -> str:
    """The effective pipeline as YAML, every default written out; parse_pipeline inverts it."""
    return yaml.dump(
        _pipeline_data(pipeline),
        Dumper=_Dumper,
        sort_keys=False,
        width=100,
        allow_unicode=True,
    )
