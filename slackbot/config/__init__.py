"""The pipeline file: YAML in, a validated `Pipeline` out, and the effective pipeline back as YAML.

It exists so that a bad pipeline stops start-up with EVERY problem listed, each naming its key
path (`apps.myapp.environments[2].interval: expected a duration like 5m, got "five"`): a JSON
schema checks the structure (schema.py, structure.py), our own checks the meaning (meaning.py).
It only reads text and files; it must not talk to Slack, GitHub or the cluster, nor read the
process environment (slackbot/settings.py does).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from slackbot.config.building import build
from slackbot.config.dumping import dump_pipeline
from slackbot.config.meaning import check_meaning, format_duration, parse_duration
from slackbot.config.reading import Report, clean, read_yaml
from slackbot.config.schema import DEFAULT_INTERVAL, DEFAULT_TIMEOUT, pipeline_schema
from slackbot.config.structure import check_structure
from slackbot.errors import ConfigError
from slackbot.pipeline import Pipeline

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


# --------------------------------------------------------------------------- public API


def _validate(text: str) -> tuple[Any, list[str]]:
    report = Report(lines={}, found=[])
    raw = read_yaml(text, report)
    if report.found:
        return None, report.sorted()
    if raw is None:
        return None, ["the file is empty: expected a mapping with an apps key"]
    data = clean(raw, (), report)
    check_structure(data, report)
    check_meaning(data, report)
    return data, report.sorted()


def check_pipeline(text: str) -> list[str]:
    """Every problem of a pipeline file's text, in file order, each as `key.path: message`."""
    return _validate(text)[1]


def parse_pipeline(text: str, source: str = "<pipeline>") -> Pipeline:
    """The pipeline in `text`; ConfigError listing every problem (prefixed by `source`) if bad."""
    data, problems = _validate(text)
    if problems:
        raise ConfigError([f"{source}: {problem}" for problem in problems])
    return build(data)


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
