"""promotebot's core: pipeline config, promotion engine and state machine, ports and adapters.

Nothing in this package may import slack_bolt, slack_sdk or handlers: the engine speaks in
domain terms and reaches Slack only through the Notifier port (tests/test_layers.py keeps it so).
"""
