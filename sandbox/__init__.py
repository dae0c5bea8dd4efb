"""Local emulators of Slack, GitHub and Kubernetes+Flux, and the sandbox command that wires the
real bot to them. Nothing in slackbot/ or handlers/ imports this package.
"""
