"""The Slack edge: the Bolt app, its listeners, Block Kit views and every user-visible sentence.

Listeners ack, parse, make one engine call and render; no business rule lives here.
"""
