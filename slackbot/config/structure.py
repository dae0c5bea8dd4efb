"""The pipeline checked against its JSON schema, each failure worded with its key path, what was
expected and what was found, with the closest key when a name is mistyped.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from typing import Any

import jsonschema

from slackbot.config.reading import TYPE_WORDS, Report, describe
from slackbot.config.schema import PIPELINE_SCHEMA, KeyPath

# --------------------------------------------------------------------------- structure

def _expected(error: jsonschema.ValidationError) -> str:
    if "x-expected" in error.schema:
        return str(error.schema["x-expected"])
    types = error.schema.get("type", "a value")
    names = types if isinstance(types, list) else [types]
    return " or ".join(TYPE_WORDS.get(str(name), str(name)) for name in names)


def _suggest(key: str, choices: Iterable[str]) -> str:
    options = sorted(choices)
    close = difflib.get_close_matches(key, options, n=1, cutoff=0.5)
    if close:
        return f'unknown key; did you mean "{close[0]}"?'
    return "unknown key; expected one of: " + ", ".join(options)


def check_structure(data: Any, report: Report) -> None:
    validator = jsonschema.Draft202012Validator(PIPELINE_SCHEMA)
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
                f"expected {_expected(error)} as the name, got {describe(error.instance)}",
            )
        elif kind in ("minItems", "minProperties"):
            report.add(path, f"expected {_expected(error)}, got an empty one")
        elif kind == "uniqueItems":
            twice = sorted({str(x) for x in error.instance if error.instance.count(x) > 1})
            report.add(path, "listed more than once: " + ", ".join(twice))
        elif kind == "minimum":
            report.add(path, f"expected {_expected(error)}, got {describe(error.instance)}")
        else:  # type, pattern, maxLength, ...
            report.add(path, f"expected {_expected(error)}, got {describe(error.instance)}")
