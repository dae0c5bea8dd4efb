"""The Flux simulator of the emulated cluster (see simulator.py); kustomize.py builds manifests."""

from sandbox.flux.simulator import FluxSimulator
from sandbox.flux.workloads import image_fault

__all__ = ["FluxSimulator", "image_fault"]
