"""A small client of Dagster's GraphQL API for launching and managing projects.

Everything the CLI does to runs goes through here, so it works against any running webserver
(`PIPELINE_DAGSTER_URL`, default http://127.0.0.1:3000), on SQLite or PostgreSQL alike.
"""

import os
import time
from typing import Any

import httpx

from pipeline.launch.guard import InvalidProjectLaunch, ProjectBusy
from pipeline.tags import ACTIVE_STATUSES, FINAL_STATUSES, LOCAL_PENDING, PROJECT, REFUSED, is_active

URL_ENV = "PIPELINE_DAGSTER_URL"
LOCATION = "pipeline"
REPOSITORY = "__repository__"
JOB = "produce_project"
PARTITIONS = "projects"
ACTIVE = [*ACTIVE_STATUSES, LOCAL_PENDING]  # queried; `is_active` decides
FINAL = FINAL_STATUSES

_RUN_FIELDS = "runId status tags { key value } startTime endTime creationTime assetSelection { path }"
_ERRORS = """... on PythonError { message } ... on RunConfigValidationInvalid { errors { message } }
  ... on InvalidStepError { invalidStepKey } ... on InvalidOutputError { invalidOutputName }
  ... on RunConflict { message } ... on UnauthorizedError { message } ... on PipelineNotFoundError { message }
  ... on InvalidSubsetError { message } ... on NoModeProvidedError { message }"""


class ClientError(RuntimeError):
    """The webserver could not be reached, or refused or failed a request; `code` from pipeline/codes.py."""

    def __init__(self, message: str, code: str = "REQUEST_FAILED"):
        super().__init__(message)
        self.code = code


class ProjectBusyError(ProjectBusy, ClientError):
    """A launch refused because the project already has a queued or running run (`run_id`)."""

    def __init__(self, project: str, run_id: str, status: str):
        super().__init__(project, run_id, status)
        self.code = "PROJECT_BUSY"


def server_error(messages: list[str], what: str) -> ClientError:
    """One clear error from the messages of a failed request: the coordinator's refusals by name."""
    text = " ".join(messages)
    if busy := ProjectBusy.parse(text):
        return ProjectBusyError(busy.project, busy.run_id, busy.status)
    if refused := InvalidProjectLaunch.parse(text):
        return ClientError(refused, code="PROJECT_ID_INVALID")
    first = next((m.strip().splitlines()[0] for m in messages if m.strip()), "no message")
    return ClientError(f"{what}: {first[:300]}")


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
                              f"start it with `make serve`, or set {URL_ENV}", code="SERVICE_UNAVAILABLE") from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise ClientError(f"Dagster webserver at {self.url} answered {response.status_code} without a GraphQL "
                              f"body: is {URL_ENV} the webserver's address?")
        if body.get("errors") or not isinstance(body.get("data"), dict):  # a 500 may still carry a PythonError
            messages = [str(e.get("message", "")) for e in body.get("errors") or [] if isinstance(e, dict)]
            raise server_error(messages, f"the Dagster webserver at {self.url} answered {response.status_code}")
        return body["data"]

    @staticmethod
    def _check(result: dict[str, Any], ok: str, what: str) -> dict[str, Any]:
        if result.get("__typename") == ok:
            return result
        messages = [result["message"]] if result.get("message") else [e["message"] for e in result.get("errors", [])]
        raise server_error(messages or [str(result)], f"{what} failed ({result.get('__typename')})")

    def _repo(self) -> dict[str, str]:
        return {"repositoryLocationName": LOCATION, "repositoryName": REPOSITORY}

    _ADD_PARTITION = """addDynamicPartition(repositorySelector: $repo, partitionsDefName: "projects", partitionKey: $key) {
              __typename ... on DuplicateDynamicPartitionError { partitionName } ... on PythonError { message }
              ... on UnauthorizedError { message } }"""

    def _added(self, result: dict[str, Any], project: str) -> None:
        if result["__typename"] not in ("AddDynamicPartitionSuccess", "DuplicateDynamicPartitionError"):
            self._check(result, "AddDynamicPartitionSuccess", f"adding partition {project!r}")

    def add_partition(self, project: str) -> None:
        data = self.query(f"""mutation($repo: RepositorySelector!, $key: String!) {{ {self._ADD_PARTITION} }}""",
                          {"repo": self._repo(), "key": project})
        self._added(data["addDynamicPartition"], project)

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

    _LAUNCH = f"""launchRun(executionParams: $params) {{
            __typename ... on LaunchRunSuccess {{ run {{ runId }} }} {_ERRORS} }}"""

    def _launch_params(self, project: str, run_config: dict[str, Any], assets: list[str] | None,
                       tags: dict[str, str] | None) -> dict[str, Any]:
        selector: dict[str, Any] = {**self._repo(), "jobName": JOB}
        if assets is not None:
            selector["assetSelection"] = [{"path": [a]} for a in assets]
        all_tags = {PROJECT: project, **(tags or {})}
        return {"selector": selector, "runConfigData": run_config,
                "executionMetadata": {"tags": [{"key": k, "value": v} for k, v in all_tags.items()]}}

    def _launched(self, result: dict[str, Any], project: str) -> str:
        return self._check(result, "LaunchRunSuccess", f"launching project {project!r}")["run"]["runId"]

    def launch(self, project: str, run_config: dict[str, Any], assets: list[str] | None = None,
               tags: dict[str, str] | None = None) -> str:
        """Launch produce_project for `project` (all assets, or `assets`); returns the run id."""
        data = self.query(f"""mutation($params: ExecutionParams!) {{ {self._LAUNCH} }}""",
                          {"params": self._launch_params(project, run_config, assets, tags)})
        return self._launched(data["launchRun"], project)

    def add_partition_and_launch(self, project: str, run_config: dict[str, Any], assets: list[str] | None = None,
                                 tags: dict[str, str] | None = None) -> str:
        """`add_partition` then `launch` in one request (GraphQL runs a mutation's fields in order)."""
        data = self.query(f"""mutation($repo: RepositorySelector!, $key: String!, $params: ExecutionParams!) {{
            {self._ADD_PARTITION} {self._LAUNCH} }}""",
                          {"repo": self._repo(), "key": project,
                           "params": self._launch_params(project, run_config, assets, tags)})
        self._added(data["addDynamicPartition"], project)
        return self._launched(data["launchRun"], project)

    def reexecute(self, run_id: str, strategy: str = "FROM_FAILURE", tags: dict[str, str] | None = None) -> str:
        """Re-execute a run (its tags, and `tags` over them); returns the new run's id."""
        params: dict[str, Any] = {"parentRunId": run_id, "strategy": strategy}
        if tags:
            params["extraTags"] = [{"key": k, "value": v} for k, v in tags.items()]
        data = self.query(f"""mutation($params: ReexecutionParams!) {{ launchRunReexecution(reexecutionParams: $params) {{
            __typename ... on LaunchRunSuccess {{ run {{ runId }} }} {_ERRORS} }} }}""", {"params": params})
        return self._check(data["launchRunReexecution"], "LaunchRunSuccess", f"re-executing run {run_id}")["run"]["runId"]

    def runs(self, project: str | None = None, statuses: list[str] | None = None, limit: int = 20,
             tags: dict[str, str] | None = None, include_refused: bool = False) -> list[dict[str, Any]]:
        """Runs, newest first, with tags as a dict; launches refused as duplicates are left out unless
        `include_refused` (pages past them, so a race's refused runs never hide the real last run)."""
        filters: dict[str, Any] = {}
        all_tags = dict(tags or {})
        if project is not None:
            all_tags[PROJECT] = project
        if all_tags:
            filters["tags"] = [{"key": k, "value": v} for k, v in all_tags.items()]
        if statuses:
            filters["statuses"] = statuses
        found: list[dict[str, Any]] = []
        cursor = None
        while len(found) < limit:
            size = min(max(limit - len(found), 20), 1000)
            data = self.query(f"""query($filter: RunsFilter, $limit: Int, $cursor: String) {{
                runsOrError(filter: $filter, limit: $limit, cursor: $cursor) {{
                __typename ... on Runs {{ results {{ {_RUN_FIELDS} }} }} ... on PythonError {{ message }} }} }}""",
                              {"filter": filters, "limit": size, "cursor": cursor})
            page = self._check(data["runsOrError"], "Runs", "listing runs")["results"]
            for run in page:
                run["tags"] = {t["key"]: t["value"] for t in run["tags"]}
            found += [r for r in page if include_refused or not r["tags"].get(REFUSED)]
            if len(page) < size:
                break
            cursor = page[-1]["runId"]
        return found[:limit]

    def run(self, run_id: str) -> dict[str, Any]:
        data = self.query(f"""query($id: ID!) {{ runOrError(runId: $id) {{ __typename
            ... on Run {{ {_RUN_FIELDS} }} ... on RunNotFoundError {{ message }} ... on PythonError {{ message }} }} }}""",
                          {"id": run_id})
        run = self._check(data["runOrError"], "Run", f"reading run {run_id}")
        run["tags"] = {t["key"]: t["value"] for t in run["tags"]}
        return run

    def active_run(self, project: str) -> dict[str, Any] | None:
        runs = [r for r in self.runs(project, ACTIVE, limit=5) if is_active(r["status"], r["tags"])]
        return runs[0] if runs else None

    def terminate(self, run_id: str, starting_timeout: float = 60, poll: float = 0.5) -> None:
        """Cancel a run. Dagster cancels QUEUED and STARTED runs only; a run the daemon is handing to its run
        worker is STARTING for a moment, so that is waited out (up to `starting_timeout`) rather than refused."""
        deadline = time.monotonic() + starting_timeout
        while True:
            data = self.query("""mutation($id: String!) { terminateRun(runId: $id) { __typename
                ... on TerminateRunFailure { message run { status } } ... on RunNotFoundError { message }
                ... on PythonError { message } ... on UnauthorizedError { message } } }""", {"id": run_id})
            result = data["terminateRun"]
            starting = (result.get("__typename") == "TerminateRunFailure"  # the status refusal, not a permission one
                        and (result.get("run") or {}).get("status") == "STARTING"
                        and "due to having status" in (result.get("message") or ""))
            if not starting or time.monotonic() > deadline:
                self._check(result, "TerminateRunSuccess", f"canceling run {run_id}")
                return
            time.sleep(poll)

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
