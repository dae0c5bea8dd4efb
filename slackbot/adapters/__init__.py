"""Adapters: the only modules that import an SDK (PyGithub, kubernetes). Each implements a port
of slackbot/ports.py and raises our own errors, chained from the SDK's."""
