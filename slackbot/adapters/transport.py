"""Transport failures (connection refused, timeouts, TLS) as errors of our own tree.

An SDK raises its API errors and, beneath them, its transport's: PyGithub lets requests'
ConnectionError through, the kubernetes client urllib3's, redis-py its own. `unreachable`
wraps every public method of an adapter class so that those become the adapter's
"unavailable" error, chained from the original, and never escape the error tree.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

C = TypeVar("C", bound=type)


def unreachable(transport: tuple[type[BaseException], ...], error: type[Exception],
                service: str) -> Callable[[C], C]:
    """A class decorator: `transport` errors of any public method become `error`."""

    def wrap(method: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return method(*args, **kwargs)
            except transport as exc:
                raise error(f"{service} could not be reached ({type(exc).__name__})") from exc

        return call

    def decorate(cls: C) -> C:
        for name, value in list(vars(cls).items()):
            if callable(value) and not name.startswith("_"):
                setattr(cls, name, wrap(value))
        return cls

    return decorate
