"""The step failures that are not a provider's, provoked for real: each carries its code, whether it is retryable,
where it happened and what to do, in the step's Dagster failure metadata.

Provider failures (<ROLE>_<KIND>) are in pipeline_tests/providers/test_error_codes.py, DISK_FULL in
test_disk_full.py and CANCELED in test_cancel.py; BRIEF_INVALID at the brief step is the brief's own.
"""

import shutil
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace

import dagster as dg
import pytest
from PIL import Image

from pipeline.brief import Brief
from pipeline.codes import CODES
from pipeline.defs.common import failures
from pipeline.providers.errors import RateLimited
from pipeline.providers.offline_text import OfflineText
from pipeline.providers.text import TextResponse
from pipeline.store import ProjectFiles
from pipeline_tests.defs.briefs import SHORT_VIDEO, small_brief
from pipeline_tests.defs.harness import CALLS, materialize, run_steps
from pipeline_tests.publish.project import made_project
from pipeline_tests.services import ROOT

UP_TO_SCRIPT = ["brief", "outline", "chapters", "script"]


def coded(result, step: str, code: str) -> dict:
    """The step's one failure, checked to carry `code` as pipeline/codes.py describes it; its metadata."""
    failures = [e.step_failure_data for e in result.all_events if e.is_step_failure and e.step_key == step]
    assert len(failures) == 1, f"{step} failed {len(failures)} times"
    data = failures[0].user_failure_data
    assert data is not None, failures[0].error.message
    metadata = {k: v.value for k, v in data.metadata.items()}
    assert metadata["error_code"] == code, data.description
    assert metadata["retryable"] is CODES[code].retryable
    assert metadata["where"] and data.description.startswith(metadata["where"]), metadata
    assert metadata["hint"] or code == "RENDER_FAILED", metadata  # a failed tool's message ends with its output
    if not CODES[code].retryable:
        assert not [e for e in result.all_events if e.event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY]
    return metadata


@pytest.fixture(scope="module")
def made(tmp_path_factory):
    """A project made offline up to its presenter, with a context file and a logo the brief step checked."""
    data_dir = tmp_path_factory.mktemp("codes") / "data"
    shutil.copytree(ROOT / "data" / "sources", data_dir / "sources")
    (data_dir / "notes.md").write_text("Clocks were wound by hand until the nineteenth century.\n")
    Image.new("RGB", (64, 64), (200, 30, 30)).save(data_dir / "logo.png", "PNG")
    brief = small_brief("codes-made", context=[{"title": "Notes", "file": "notes.md"}],
                        video={**SHORT_VIDEO, "logo": "logo.png"})
    instance = dg.DagsterInstance.ephemeral()
    assert materialize(brief, data_dir, [*UP_TO_SCRIPT, "narration", "images", "presenter"], instance=instance).success
    return SimpleNamespace(brief=brief, data_dir=data_dir, instance=instance,
                           files=ProjectFiles(data_dir, brief.project_id))


@pytest.fixture
def restored(made):
    """Files a test breaks, put back afterwards for the next test on the same project."""
    kept = {path: path.read_bytes() for path in (made.data_dir / "notes.md", made.data_dir / "logo.png",
                                                 made.files.path("narration.wav"))}
    yield
    for path, data in kept.items():
        path.write_bytes(data)


TOOLS = ("ffmpeg", "ffprobe", "fc-list", "espeak-ng")


def path_without(missing: str, folder, monkeypatch) -> None:
    """PATH with the tools the pipeline runs, all but `missing`."""
    folder.mkdir()
    for tool in TOOLS:
        if tool != missing and (found := shutil.which(tool)):
            (folder / tool).symlink_to(found)
    monkeypatch.setenv("PATH", str(folder))


def test_ffmpeg_missing_is_render_tool_missing(made, tmp_path, monkeypatch):
    path_without("ffmpeg", tmp_path / "bin", monkeypatch)
    metadata = coded(materialize(made.brief, made.data_dir, ["video"], instance=made.instance), "video",
                     "RENDER_TOOL_MISSING")
    assert metadata["where"] == "video render"
    assert metadata["message"].startswith("ffmpeg is not installed or not on PATH")


def test_espeak_missing_is_render_tool_missing(data_dir, tmp_path, monkeypatch):
    brief = small_brief("codes-zh", language="zh")
    assert materialize(brief, data_dir, UP_TO_SCRIPT).success
    path_without("espeak-ng", tmp_path / "bin", monkeypatch)
    metadata = coded(materialize(brief, data_dir, ["narration"]), "narration", "RENDER_TOOL_MISSING")
    assert "espeak-ng is not installed" in metadata["message"] and "apt-get install espeak-ng" in metadata["hint"]


def test_ffmpeg_failing_on_the_projects_media_is_render_failed(made, restored):
    made.files.path("narration.wav").write_bytes(b"RIFF this is no audio at all" * 100)
    result = run_steps(made.brief, made.data_dir, ["video"], made.instance, retries=False)
    metadata = coded(result, "video", "RENDER_FAILED")
    assert metadata["where"] == "video render" and "failed (exit" in metadata["message"]


def test_a_logo_that_no_longer_reads_is_input_unreadable(made, restored):
    (made.data_dir / "logo.png").write_text("not a picture")
    metadata = coded(materialize(made.brief, made.data_dir, ["video"], instance=made.instance), "video",
                     "INPUT_UNREADABLE")
    assert metadata["where"] == "video"
    assert metadata["message"] == "video.logo: 'logo.png' is not a readable image: give a PNG, JPEG or WebP file"


def test_a_context_file_that_no_longer_reads_is_input_unreadable(made, restored):
    (made.data_dir / "notes.md").write_bytes(b"caf\xe9 au lait")  # Latin-1, not UTF-8
    metadata = coded(materialize(made.brief, made.data_dir, ["chapters"], instance=made.instance), "chapters",
                     "INPUT_UNREADABLE")
    assert metadata["message"].startswith("context.0.file: 'notes.md' is not UTF-8 text (byte 3 is 0xe9)")


class TooShortScripts(OfflineText):
    """Answers every script request with one segment far too short."""

    def generate(self, request):
        if request.task != "script":
            return super().generate(request)
        CALLS["script"] += 1
        return TextResponse(text='{"title": "t", "segments": [{"index": 0, "kind": "intro", "text": "x", '
                                 '"duration": 1, "image_description": "y"}]}', model="short")


def test_a_script_that_stays_invalid_is_script_invalid(made):
    CALLS.clear()
    result = materialize(made.brief, made.data_dir, ["script"], instance=made.instance,
                         text_provider=TooShortScripts())
    metadata = coded(result, "script", "SCRIPT_INVALID")
    assert "segment 0: duration 1 s is outside 4-12 s" in metadata["message"] and CALLS["script"] == 3


class BrokenText(OfflineText):
    """A provider with a bug: it fails in a way no rule knows."""

    def generate(self, request):
        raise KeyError("choices")


def test_an_unexpected_error_is_step_failed_and_retried(made):
    result = run_steps(made.brief, made.data_dir, ["outline"], made.instance, retries=False,
                       text_provider=BrokenText())
    metadata = coded(result, "outline", "STEP_FAILED")
    assert metadata["where"] == "outline" and metadata["message"] == "KeyError: 'choices'"
    assert "traceback" in metadata["hint"]


def test_a_step_over_the_budget_is_budget_exceeded(data_dir):
    brief = small_brief("codes-budget", budget={"tokens": 10})
    result = materialize(brief, data_dir, ["brief", "outline"])
    metadata = coded(result, "outline", "BUDGET_EXCEEDED")
    assert metadata["where"] == "outline" and metadata["limit"] == "budget.tokens" and metadata["budget"] == 10
    assert metadata["used"] > 10 and "Raise budget.tokens in the brief" in metadata["hint"]


def test_a_step_whose_input_was_never_made_is_upstream_missing(data_dir):
    brief = small_brief("codes-unbriefed")
    metadata = coded(materialize(brief, data_dir, ["outline"]), "outline", "UPSTREAM_MISSING")
    assert metadata["where"] == "loading brief" and metadata["path"].endswith("/codes-unbriefed/brief.json")
    assert metadata["hint"] == "materialise brief for project codes-unbriefed first"


def test_an_unapproved_publication_is_approval_required(data_dir):
    brief = small_brief("codes-approval", publish={"require_approval": True})
    made_project(data_dir, brief)
    metadata = coded(materialize(brief, data_dir, ["publication"]), "publication", "APPROVAL_REQUIRED")
    assert metadata["hint"] == "review the video, then run `pipeline approve codes-approval`"


def test_a_schedule_that_has_passed_is_brief_invalid_at_publication(data_dir):
    stored = small_brief("codes-late").model_dump(mode="json")
    when = datetime.now(timezone.utc) - timedelta(hours=1)
    stored["publish"] = {"publish_at": when.isoformat()}  # in the future when the brief was submitted
    brief = Brief.model_validate(stored)
    made_project(data_dir, brief)
    metadata = coded(materialize(brief, data_dir, ["publication"]), "publication", "BRIEF_INVALID")
    assert metadata["message"].startswith("publish.publish_at (") and "set a later time" in metadata["hint"]


def test_a_step_retry_after_a_429_is_caused_by_its_coded_failure():
    """Dagster reports the cause of the last RetryRequested once max_retries is exceeded: the coded failure."""
    limited = RateLimited("openai text", "429 Too Many Requests", retry_after=7, role="text")
    with pytest.raises(dg.RetryRequested) as caught:
        with failures("outline"):
            raise limited
    final = caught.value.__cause__
    assert caught.value.seconds_to_wait == 7 and isinstance(final, dg.Failure) and final.__cause__ is limited
    assert final.metadata["error_code"].value == "TEXT_RATE_LIMITED" and final.metadata["retry_after"].value == 7


def test_every_failure_is_built_from_a_problem():
    """`failure(Problem(..., code=...))` is the one way a step fails: a bare dg.Failure would carry no code."""
    bare = [f"{path.relative_to(ROOT)}:{n}" for path in sorted((ROOT / "pipeline").rglob("*.py"))
            if path != ROOT / "pipeline" / "defs" / "common.py"
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1) if "dg.Failure(" in line]
    assert not bare, bare
