"""Prod in an emulated cluster of its own: the real bot keeps one Kustomization watch per
cluster, promotes staging (first cluster) into prod (second cluster) through prod's gates, sees
the deploy where it happened, and /readyz names the cluster that stops answering."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from importlib import resources
from pathlib import Path

from sandbox.world import World, two_cluster_pipeline
from slackbot.config import parse_pipeline
from tests.e2e.conftest import DEV, live_bot
from tests.e2e.test_incidents import through_prod_gates
from tests.waiting import wait_for


def _readyz(url: str) -> tuple[int, dict[str, object]]:
    try:
        with urllib.request.urlopen(url + "/readyz", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_a_promotion_into_prod_in_its_own_cluster_deploys_there(tmp_path: Path,
                                                                 redis_url: str) -> None:
    with World(time_scale=60, pod_start_delay=3.0, workdir=tmp_path / "world",
               prod_cluster=True) as world:
        assert world.prod_cluster is not None
        base = resources.files("slackbot").joinpath("default-pipeline.yaml").read_text()
        pipeline = parse_pipeline(two_cluster_pipeline(base, world.prod_cluster.url))
        with live_bot(world, redis_url, pipeline, tmp_path) as live:
            bot = live.bot
            assert set(bot.watches) == {None, "prod"}  # one watch per cluster
            assert all(watch.started for watch in bot.watches.values())
            assert world.cluster.store.list("kustomizations")[0]  # dev and staging there ...
            assert {k["metadata"]["name"] for k in world.cluster.store.list(
                "kustomizations")[0]} == {"myapp-dev", "myapp-staging"}
            assert {k["metadata"]["name"] for k in world.prod_cluster.store.list(
                "kustomizations")[0]} == {"myapp-prod"}  # ... and prod only in its own

            change = live.push("staging", "apps/myapp/NOTES.md", "two clusters\n", "For prod")
            live.wait_deployed("staging", change)
            live.command(DEV, "/promote prod")
            done = through_prod_gates(live, live.live_record("prod"), "Revert the merge.")
            prod = world.prod_cluster.store.get("kustomizations", "flux-system", "myapp-prod")
            assert prod["status"]["lastAppliedRevision"] == f"prod@sha1:{done.merge_sha}"
            assert prod["metadata"]["annotations"]["reconcile.fluxcd.io/requestedAt"] == (
                done.reconcile_token)
            wait_for(lambda: "Deployed to prod" in live.card_text(done.id), "the final card")

            assert _readyz(bot.url or "")[0] == 200
            world.prod_cluster.stop()
            _, body = wait_for(lambda: (r := _readyz(bot.url or ""))[0] == 503 and r,
                               "readyz to name prod's cluster")
            assert body["failing"] == ["kubernetes:prod"]
