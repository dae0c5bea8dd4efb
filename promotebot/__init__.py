"""The composition root: the only place that builds adapters and wires the core, the Slack edge
and (for the sandbox) the emulators together. Nothing imports this package; it imports all.
"""
