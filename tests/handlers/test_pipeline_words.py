"""What each env runs, as `/promote status` and App Home say it through the real Bolt app: each
sha cut to 7 and shown once, the image the env's Deployment runs, and App Home opening with a
picture of the pipeline (each env's version, state and what waits to be promoted into it)."""

from __future__ import annotations

from typing import Any

from slackbot.ports import Rollout
from tests.handlers.conftest import DEV, Edge, wait_for
from tests.handlers.test_home_and_web import _home, _open_home
from tests.handlers.test_promotion_card import _text_of

IMAGES = {"dev": "ghcr.io/acme/myapp:1.4.2", "staging": "ghcr.io/acme/myapp:1.4.1",
          "prod": "ghcr.io/acme/myapp:1.3.0"}


def running_images(edge: Edge) -> None:
    for env, image in IMAGES.items():
        edge.cluster.rollouts[(env, "myapp")] = Rollout(
            "myapp", env, 2, 2, 2, 2, True, False, "successfully rolled out", (image,))


def env_block(status: dict[str, Any], env: str) -> str:
    """The section of one env: its title and its fields."""
    block = next(b for b in status["blocks"]
                 if b.get("text", {}).get("text", "").startswith(f"*{env}* ·"))
    return block["text"]["text"] + "\n" + "\n".join(f["text"] for f in block["fields"])


def test_status_shows_each_sha_once_and_short_and_the_image_each_env_runs(edge: Edge) -> None:
    running_images(edge)
    edge.command("/promote status")
    status = wait_for(lambda: next((m for m in edge.emulator.ephemerals(DEV)
                                    if m.get("text") == "Status of myapp per environment"),
                                   None), what="the status answer")
    for env, image in IMAGES.items():
        head = edge.forge.heads[env]
        said = env_block(status, env)
        assert head not in said  # never the 40 characters
        assert said.count(head[:7]) == 1, said  # the revision Flux applied, once
        assert f"*Runs*\n`{env}@{head[:7]}` (the branch head)" in said
        assert f"*Image*\n`{image}`" in said
        assert "sha1:" not in said


def test_app_home_opens_with_a_picture_of_the_pipeline(edge: Edge) -> None:
    running_images(edge)
    edge.command("/promote staging")
    edge.wait_state(1, "awaiting_gates")
    edge.command("/promote freeze staging release week")
    wait_for(lambda: edge.store.blocks("myapp", "staging"), what="staging frozen")
    edge.settle()
    assert _open_home(edge, DEV) == 200

    def picture() -> str | None:
        home = _home(edge, DEV)
        if home is None or len(home["blocks"]) < 2:
            return None
        said = str(home["blocks"][1]["text"]["text"])
        return said if ":ice_cube: frozen" in said and "(P-1)" in said else None

    said = wait_for(picture, what="App Home's pipeline picture with staging frozen")
    home = _home(edge, DEV)
    assert home is not None and home["blocks"][1]["block_id"] == "home.pipeline.myapp"
    dev, staging, prod = (edge.forge.heads[e][:7] for e in ("dev", "staging", "prod"))
    assert said.splitlines() == [
        "*myapp*  dev → staging → prod",
        f"*dev* · `1.4.2` `{dev}` · :large_green_circle: Ready",
        f"*staging* · `1.4.1` `{staging}` · :large_green_circle: Ready · "
        f":arrows_counterclockwise: promoting (P-1) · :ice_cube: frozen · 1 commit waiting",
        f"*prod* · `1.3.0` `{prod}` · :large_green_circle: Ready · 1 commit waiting",
    ]
    assert "Status of myapp" in _text_of(home)  # the details follow the picture
