"""One way to build the real kubernetes client against the emulated apiserver.

Tests and the sandbox call api_client(url) so every caller talks to the emulator the same
way: plain http, no auth, no kubeconfig. It must not start servers.
"""

from __future__ import annotations

import kubernetes.client


def api_client(url: str) -> kubernetes.client.ApiClient:
    """A kubernetes ApiClient whose Configuration points at url (e.g. http://127.0.0.1:PORT)."""
    configuration = kubernetes.client.Configuration()
    configuration.host = url
    return kubernetes.client.ApiClient(configuration)
