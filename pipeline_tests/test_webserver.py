"""The Dagster UI's server shows the code location, the job and a project's materialised partition."""

import json
import urllib.request

from pipeline.run import run_locally
from pipeline_tests.defs.briefs import small_brief


def graphql(url: str, query: str) -> dict:
    request = urllib.request.Request(f"{url}/graphql", data=json.dumps({"query": query}).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.load(response)
    assert "errors" not in body, body
    return body["data"]


def test_ui_shows_the_project_partition(instance, data_dir, monkeypatch, webserver):
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    assert run_locally(small_brief("ui-project"), stop_at="outline", instance=instance).success
    data = graphql(webserver, """{ assetNodes { assetKey { path } jobNames
        assetPartitionStatuses { ... on DefaultPartitionStatuses { materializedPartitions } } } }""")
    nodes = {tuple(n["assetKey"]["path"]): n for n in data["assetNodes"]}
    assert {("brief",), ("video",), ("thumbnail",)} <= set(nodes)
    assert "produce_project" in nodes[("video",)]["jobNames"]
    assert nodes[("outline",)]["assetPartitionStatuses"]["materializedPartitions"] == ["ui-project"]
    assert nodes[("video",)]["assetPartitionStatuses"]["materializedPartitions"] == []
    locations = graphql(webserver, "{ workspaceOrError { ... on Workspace { locationEntries { name } } } }")
    assert [e["name"] for e in locations["workspaceOrError"]["locationEntries"]] == ["pipeline"]
