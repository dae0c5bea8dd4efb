"""Bolt listeners, one module per Slack surface, each exposing `register(app, services)`.

Shape of every listener: ack first, parse, one engine call, render. No business rule here,
and nothing registers at import time (handlers/app.py calls `register_listeners`).
"""
