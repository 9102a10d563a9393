"""The brief's Launchpad schema over GraphQL against a real webserver: what the README documents, and
a launch of the wrong type refused with nothing created."""

import json
import re

import dagster as dg
import pytest

from pipeline.defs.ops.jobs import run_config
from pipeline.launch.client import JOB, ClientError, PipelineClient
from pipeline_tests.defs.briefs import small_brief
from pipeline_tests.services import ROOT

SCHEMA = """query($selector: PipelineSelector!) { runConfigSchemaOrError(selector: $selector) { __typename
  ... on RunConfigSchema { rootConfigType { key } allConfigTypes { __typename key
    ... on RegularConfigType { givenName }
    ... on EnumConfigType { values { value } }
    ... on CompositeConfigType { fields { name description isRequired configTypeKey defaultValueAsJson } }
    ... on NullableConfigType { ofType { key } }
    ... on ArrayConfigType { ofType { key } }
    ... on ScalarUnionConfigType { scalarTypeKey } } }
  ... on PythonError { message } } }"""
LAUNCH = """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) { __typename
  ... on LaunchRunSuccess { run { runId } } ... on RunConfigValidationInvalid { errors { message } }
  ... on PythonError { message } } }"""
WRONG = [{"prompt": "x", "chapters": "three"}, {"prompt": "x", "video": {"target_seconds": True}},
         {"prompt": "x", "kind": "poem"}, {"prompt": "x", "language": "fr"}, {"prompt": "x", "surprise": 1},
         {"prompt": "x", "publish": {"require_approval": "yes"}}, {"chapters": 2}]
SCALARS = {"String": "string", "Int": "int", "Float": "float", "Bool": "bool", "Any": "any"}


class Schema:
    """The brief's config as the webserver reports it: one entry per field path."""

    def __init__(self, data: dict):
        self.types = {t["key"]: t for t in data["allConfigTypes"]}
        root = self.types[data["rootConfigType"]["key"]]
        ops = self.types[self._field(root, "ops")["configTypeKey"]]
        brief = self.types[self._field(ops, "brief")["configTypeKey"]]
        self.config = self._field(brief, "config")
        self.fields: dict[str, dict] = {}
        self._walk(self.types[self.config["configTypeKey"]], "")

    @staticmethod
    def _field(composite: dict, name: str) -> dict:
        return next(f for f in composite["fields"] if f["name"] == name)

    def unwrap(self, key: str) -> tuple[dict, bool]:
        """The type of a key without its Nullable wrapper, and whether it had one."""
        kind = self.types[key]
        if kind["__typename"] == "NullableConfigType":
            return self.types[kind["ofType"]["key"]], True
        return kind, False

    def word(self, kind: dict) -> str:
        """The README's word for a config type."""
        if kind["__typename"] == "ScalarUnionConfigType":
            kind = self.types[kind["scalarTypeKey"]]
        if kind["__typename"] == "RegularConfigType":
            return SCALARS[kind["givenName"]]
        if kind["__typename"] == "EnumConfigType":
            return "one of " + ", ".join(v["value"] for v in kind["values"])
        if kind["__typename"] == "ArrayConfigType":
            return "list of " + self.word(self.unwrap(kind["ofType"]["key"])[0])
        if kind["__typename"] == "CompositeConfigType":
            return "{" + ", ".join(sorted(f["name"] for f in kind["fields"])) + "}"
        raise AssertionError(f"unexpected config type {kind}")

    def _walk(self, composite: dict, prefix: str) -> None:
        for field in composite["fields"]:
            path = f"{prefix}{field['name']}"
            kind, nullable = self.unwrap(field["configTypeKey"])
            self.fields[path] = {**field, "word": self.word(kind), "nullable": nullable}
            if kind["__typename"] == "ArrayConfigType":
                kind = self.unwrap(kind["ofType"]["key"])[0]
                path += "[]"
            if kind["__typename"] == "CompositeConfigType":
                self._walk(kind, f"{path}.")


def _readme_section() -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("\n## The brief\n")
    return text[start:text.index("\n## ", start + 1)]


def _readme_rows() -> dict[str, tuple[str, str]]:
    """Field path -> (type, default) from the tables of the README's brief section."""
    rows, header = {}, None
    for line in _readme_section().splitlines():
        if not line.startswith("|"):
            header = None
            continue
        cells = [c.strip() for c in line.strip("|").split("|")]
        if header is None:
            header = cells
        elif header == ["Field", "Type", "Default", "Meaning"] and not set(cells[0]) <= {"-"}:
            for path in re.findall(r"`([^`]+)`", cells[0]):
                rows[path] = (cells[1], cells[2])
    return rows


def _sort_words(word: str) -> str:
    """`{b, a}` as `{a, b}`, so README order does not matter for shapes."""
    match = re.fullmatch(r"(list of )?\{(.*)\}", word)
    return f"{match[1] or ''}{{{', '.join(sorted(match[2].split(', ')))}}}" if match else word


def _check_default(path: str, field: dict, cell: str) -> None:
    default = None if field["defaultValueAsJson"] is None else json.loads(field["defaultValueAsJson"])
    if cell.startswith("required"):
        if "in run config: the partition key" in cell:  # project_id
            assert not field["isRequired"] and default is None, path
        else:
            assert field["isRequired"], path
    elif cell == "-":
        assert not field["isRequired"] and default is None, (path, default)
    elif cell == "its fields'":
        assert not field["isRequired"] and isinstance(default, dict) and field["word"].startswith("{"), path
    else:
        value = cell.strip("`")
        try:
            value = json.loads(value)
        except ValueError:
            pass
        assert not field["isRequired"] and default == value, (path, default, cell)


def test_launchpad_schema_is_what_the_readme_documents(webserver):
    client = PipelineClient(webserver)
    selector = {"repositoryLocationName": "pipeline", "repositoryName": "__repository__", "pipelineName": JOB}
    data = client.query(SCHEMA, {"selector": selector})["runConfigSchemaOrError"]
    assert data["__typename"] == "RunConfigSchema", data
    schema = Schema(data)
    readme = _readme_rows()

    assert schema.config["isRequired"], "a run of `brief` needs its brief"
    assert set(readme) == set(schema.fields), (set(readme) ^ set(schema.fields))
    for path, field in schema.fields.items():
        kind, default = readme[path]
        assert _sort_words(kind) == _sort_words(field["word"]), (path, kind, field["word"])
        _check_default(path, field, default)
        assert field["description"], f"{path} has no description in the Launchpad"
    assert {p for p, f in schema.fields.items() if f["isRequired"]} == {
        "prompt", "outline.title", "outline.logline", "outline.chapters", "outline.chapters[].index",
        "outline.chapters[].title", "outline.chapters[].summary", "outline.bible.characters[].name",
        "media.files[].file"}

    # The README's claim about null: every optional field but these accepts it at launch.
    claim = next(line for line in _readme_section().splitlines() if line.startswith("| null |"))
    not_nullable = {p for p, f in schema.fields.items() if not f["isRequired"] and not f["nullable"]}
    assert not_nullable == set(re.findall(r"`([^`]+)`", claim.split("|")[2]))
    assert not any(f["nullable"] for f in schema.fields.values() if f["isRequired"])


def test_wrong_types_are_refused_at_launch_and_create_nothing(webserver, instance):
    client = PipelineClient(webserver)
    client.add_partition("typed-brief")
    selector = {"repositoryLocationName": "pipeline", "repositoryName": "__repository__", "jobName": JOB,
                "assetSelection": [{"path": ["brief"]}]}

    def launch(config):
        params = {"selector": selector, "runConfigData": {"ops": {"brief": {"config": config}}},
                  "executionMetadata": {"tags": [{"key": "dagster/partition", "value": "typed-brief"}]}}
        return client.query(LAUNCH, {"params": params})["launchRun"]

    for config in WRONG:
        refused = launch(config)
        assert refused["__typename"] == "RunConfigValidationInvalid", (config, refused)
        assert refused["errors"], config
        with pytest.raises(ClientError) as raised:
            client.launch("typed-brief", {"ops": {"brief": {"config": config}}}, ["brief"])
        assert "RunConfigValidationInvalid" in str(raised.value) and "\n" not in str(raised.value)
    assert instance.get_runs() == []
    assert instance.get_run_records(dg.RunsFilter(tags={"dagster/partition": "typed-brief"})) == []

    # The same brief with the right types is launched (queued: no daemon here): the refusals were the types.
    accepted = launch(run_config(small_brief("typed-brief"))["ops"]["brief"]["config"])
    assert accepted["__typename"] == "LaunchRunSuccess", accepted
    assert [r.run_id for r in instance.get_runs()] == [accepted["run"]["runId"]]
