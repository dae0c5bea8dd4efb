"""The Flux simulator of the emulated cluster (see simulator.py); kustomize.py renders manifests."""

from sandbox.flux.kustomize import KustomizeError, build
from sandbox.flux.simulator import FluxSimulator
from sandbox.flux.workloads import image_fault

__all__ = ["FluxSimulator", "KustomizeError", "build", "image_fault"]
