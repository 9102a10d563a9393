"""A small client of Dagster's GraphQL API for launching and managing projects.

Everything the CLI does to runs goes through here, so it works against any running webserver
(`PIPELINE_DAGSTER_URL`, default http://127.0.0.1:3000), on SQLite or PostgreSQL alike.
"""

import os
import time
from typing import Any

import httpx

URL_ENV = "PIPELINE_DAGSTER_URL"
LOCATION = "pipeline"
REPOSITORY = "__repository__"
JOB = "produce_project"
PARTITIONS = "projects"
ACTIVE = ["QUEUED", "NOT_STARTED", "STARTING", "STARTED", "CANCELING"]
FINAL = ("SUCCESS", "FAILURE", "CANCELED")

_RUN_FIELDS = "runId status tags { key value } startTime endTime creationTime assetSelection { path }"
_ERRORS = """... on PythonError { message } ... on RunConfigValidationInvalid { errors { message } }
  ... on InvalidStepError { invalidStepKey } ... on InvalidOutputError { invalidOutputName }
  ... on RunConflict { message } ... on UnauthorizedError { message } ... on PipelineNotFoundError { message }
  ... on InvalidSubsetError { message } ... on NoModeProvidedError { message }"""


class ClientError(RuntimeError):
    """The webserver could not be reached, or refused or failed a request."""


class PipelineClient:
    def __init__(self, url: str | None = None, timeout: float = 60.0):
        self.url = (url or os.environ.get(URL_ENV) or "http://127.0.0.1:3000").rstrip("/")
        self.timeout = timeout

    def query(self, document: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        try:
            response = httpx.post(f"{self.url}/graphql", json={"query": document, "variables": variables or {}},
                                  timeout=self.timeout)
        except httpx.TransportError as e:
            raise ClientError(f"cannot reach the Dagster webserver at {self.url} ({e.__class__.__name__}): "
                              f"start it with `make serve`, or set {URL_ENV}") from None
        if response.status_code != 200:
            raise ClientError(f"Dagster webserver at {self.url} answered {response.status_code}: {response.text[:300]}")
        body = response.json()
        if body.get("errors"):
            raise ClientError("GraphQL error: " + "; ".join(e.get("message", "") for e in body["errors"]))
        return body["data"]

    @staticmethod
    def _check(result: dict[str, Any], ok: str, what: str) -> dict[str, Any]:
        if result.get("__typename") == ok:
            return result
        details = result.get("message") or "; ".join(e["message"] for e in result.get("errors", [])) or str(result)
        raise ClientError(f"{what} failed ({result.get('__typename')}): {details}")

    def _repo(self) -> dict[str, str]:
        return {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}

    def add_partition(self, project: str) -> None:
        data = self.query("""mutation($repo: RepositorySelector!, $key: String!) {
            addDynamicPartition(repositorySelector: $repo, partitionsDefName: "projects", partitionKey: $key) {
              __typename ... on DuplicateDynamicPartitionError { partitionName } ... on PythonError { message }
              ... on UnauthorizedError { message } } }""", {"repo": self._repo(), "key": project})
        result = data["addDynamicPartition"]
        if result["__typename"] not in ("AddDynamicPartitionSuccess", "DuplicateDynamicPartitionError"):
            self._check(result, "AddDynamicPartitionSuccess", f"adding partition {project!r}")

    def delete_partition(self, project: str) -> None:
        data = self.query("""mutation($repo: RepositorySelector!, $keys: [String!]!) {
            deleteDynamicPartitions(repositorySelector: $repo, partitionsDefName: "projects", partitionKeys: $keys) {
              __typename ... on PythonError { message } ... on UnauthorizedError { message } } }""",
                          {"repo": self._repo(), "keys": [project]})
        self._check(data["deleteDynamicPartitions"], "DeleteDynamicPartitionsSuccess", f"deleting partition {project!r}")

    def partitions(self) -> list[str]:
        """Every project (partition key of `projects`)."""
        data = self.query("""{ assetNodeOrError(assetKey: {path: ["brief"]}) { ... on AssetNode {
            partitionKeysByDimension { partitionKeys } } } }""")
        dims = data["assetNodeOrError"].get("partitionKeysByDimension") or [{"partitionKeys": []}]
        return dims[0]["partitionKeys"]

    def launch(self, project: str, run_config: dict[str, Any], assets: list[str] | None = None,
               tags: dict[str, str] | None = None) -> str:
        """Launch produce_project for `project` (all assets, or `assets`); returns the run id."""
        selector: dict[str, Any] = {**self._repo(), "jobName": JOB}
        if assets is not None:
            selector["assetSelection"] = [{"path": [a]} for a in assets]
        all_tags = {"dagster/partition": project, **(tags or {})}
        params = {"selector": selector, "runConfigData": run_config,
                  "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in all_tags.items()]}}
        data = self.query(f"""mutation($params: ExecutionParams!) {{ launchRun(executionParams: $params) {{
            __typename ... on LaunchRunSuccess {{ run {{ runId }} }} {_ERRORS} }} }}""", {"params": params})
        return self._check(data["launchRun"], "LaunchRunSuccess", f"launching project {project!r}")["run"]["runId"]

    def reexecute(self, run_id: str, strategy: str = "FROM_FAILURE") -> str:
        data = self.query(f"""mutation($params: ReexecutionParams!) {{ launchRunReexecution(reexecutionParams: $params) {{
            __typename ... on LaunchRunSuccess {{ run {{ runId }} }} {_ERRORS} }} }}""",
                          {"params": {"parentRunId": run_id, "strategy": strategy}})
        return self._check(data["launchRunReexecution"], "LaunchRunSuccess", f"re-executing run {run_id}")["run"]["runId"]

    def runs(self, project: str | None = None, statuses: list[str] | None = None, limit: int = 20,
             tags: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Runs, newest first, with tags as a dict."""
        filters: dict[str, Any] = {}
        all_tags = dict(tags or {})
        if project:
            all_tags["dagster/partition"] = project
        if all_tags:
            filters["tags"] = [{"key": k, "value": v} for k, v in all_tags.items()]
        if statuses:
            filters["statuses"] = statuses
        data = self.query(f"""query($filter: RunsFilter, $limit: Int) {{ runsOrError(filter: $filter, limit: $limit) {{
            __typename ... on Runs {{ results {{ {_RUN_FIELDS} }} }} ... on PythonError {{ message }} }} }}""",
                          {"filter": filters, "limit": limit})
        result = self._check(data["runsOrError"], "Runs", "listing runs")["results"]
        for run in result:
            run["tags"] = {t["key"]: t["value"] for t in run["tags"]}
        return [r for r in result if not r["tags"].get("pipeline/refused")]

    def run(self, run_id: str) -> dict[str, Any]:
        data = self.query(f"""query($id: ID!) {{ runOrError(runId: $id) {{ __typename
            ... on Run {{ {_RUN_FIELDS} }} ... on RunNotFoundError {{ message }} ... on PythonError {{ message }} }} }}""",
                          {"id": run_id})
        run = self._check(data["runOrError"], "Run", f"reading run {run_id}")
        run["tags"] = {t["key"]: t["value"] for t in run["tags"]}
        return run

    def active_run(self, project: str) -> dict[str, Any] | None:
        runs = [r for r in self.runs(project, ACTIVE, limit=5)
                if r["status"] != "NOT_STARTED" or r["tags"].get("pipeline/launched_by") == "local"]
        return runs[0] if runs else None

    def terminate(self, run_id: str) -> None:
        data = self.query("""mutation($id: String!) { terminateRun(runId: $id) { __typename
            ... on TerminateRunFailure { message } ... on RunNotFoundError { message } ... on PythonError { message }
            ... on UnauthorizedError { message } } }""", {"id": run_id})
        self._check(data["terminateRun"], "TerminateRunSuccess", f"canceling run {run_id}")

    def delete_run(self, run_id: str) -> None:
        data = self.query("""mutation($id: String!) { deleteRun(runId: $id) { __typename
            ... on PythonError { message } ... on RunNotFoundError { message } ... on UnauthorizedError { message } } }""",
                          {"id": run_id})
        self._check(data["deleteRun"], "DeletePipelineRunSuccess", f"deleting run {run_id}")

    def wait(self, run_id: str, timeout: float = 3600, poll: float = 0.5) -> dict[str, Any]:
        """The run once it has ended (SUCCESS, FAILURE or CANCELED)."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.run(run_id)
            if run["status"] in FINAL:
                return run
            if time.monotonic() > deadline:
                raise ClientError(f"run {run_id} still {run['status']} after {timeout:.0f} s")
            time.sleep(poll)
