"""Domain values to JSON-ready dicts and back, for the store (Redis) and nothing else.

One cattrs converter knows our conventions: datetimes as ISO 8601 text, durations as seconds,
enums by value, tuples as lists; an event's facts are tagged with the event's kind. Unknown
keys in stored data are ignored, so a record written by a newer version still loads.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any, TypeVar

import cattrs

from slackbot.events import FACTS, Event, EventKind, Facts

T = TypeVar("T")

_converter = cattrs.Converter(omit_if_default=True)
_converter.register_unstructure_hook(datetime, lambda moment: moment.isoformat())
_converter.register_structure_hook(datetime, lambda text, _: datetime.fromisoformat(text))
_converter.register_unstructure_hook(timedelta, lambda delta: delta.total_seconds())
_converter.register_structure_hook(timedelta, lambda seconds, _: timedelta(seconds=seconds))


def dump(value: object) -> Any:
    """A JSON-ready form of a domain value (dataclasses, enums, datetimes, tuples)."""
    return _converter.unstructure(value)


def load(cls: type[T], data: Any) -> T:
    """The value of type `cls` that `dump` gave `data` for."""
    return _converter.structure(data, cls)


def dump_event(event: Event) -> dict[str, str]:
    """An event as the flat text fields of a Redis stream entry."""
    return {
        "kind": event.kind.value,
        "promotion_id": "" if event.promotion_id is None else str(event.promotion_id),
        "app": event.app,
        "env": event.env,
        "actor": event.actor,
        "at": event.at.isoformat(),
        "facts": json.dumps(dump(event.facts)),
    }


def load_event(fields: dict[str, str]) -> Event:
    kind = EventKind(fields["kind"])
    facts: Facts = load(FACTS[kind], json.loads(fields.get("facts") or "{}"))
    pid = fields.get("promotion_id", "")
    return Event(
        promotion_id=int(pid) if pid else None,
        app=fields["app"],
        env=fields["env"],
        actor=fields["actor"],
        at=datetime.fromisoformat(fields["at"]),
        facts=facts,
    )
