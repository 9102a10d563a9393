"""The asset boundary's rules, one error at a time: what is retried, what fails at once, and how it reads."""

import errno
import wave

import dagster as dg
import pytest
from dagster._core.errors import DagsterExecutionInterruptedError

from pipeline.defs.common import failures
from pipeline.providers.errors import PermanentProviderError, RateLimited, TransientProviderError
from pipeline.render.ffmpeg import DiskFull, RenderError


def _through(error: BaseException, folder=None, canceling=None) -> BaseException:
    """What leaves `failures("stage", ...)` when `error` is raised inside it."""
    with pytest.raises(BaseException) as caught:
        with failures("stage", folder, canceling):
            raise error
    return caught.value


def _masked_interrupt() -> BaseException:
    """A cleanup error raised while an interrupt unwinds (a WAV closed half-written), as it reaches the boundary."""
    try:
        try:
            raise DagsterExecutionInterruptedError()
        finally:
            raise wave.Error("# channels not specified")
    except wave.Error as e:
        return e


@pytest.mark.parametrize("error", [DagsterExecutionInterruptedError(), KeyboardInterrupt(), _masked_interrupt()],
                         ids=["interrupt", "keyboard", "hidden-by-cleanup"])
def test_a_cancel_fails_the_step_without_retry(error):
    out = _through(error)
    assert isinstance(out, dg.Failure) and not out.allow_retries
    assert out.description.startswith("stage: canceled: the run was terminated; finished items are kept")


def test_anything_that_would_be_retried_is_a_cancel_while_the_run_is_canceling():
    for error in (ValueError("boom"), TransientProviderError("p", "503"), RenderError("ffmpeg exit 255"),
                  RateLimited("p", "429", retry_after=3)):
        out = _through(error, canceling=lambda: True)
        assert isinstance(out, dg.Failure) and not out.allow_retries and "canceled" in out.description, error
    assert _through(ValueError("boom"), canceling=lambda: False).args == ("boom",), "otherwise unchanged"


def test_disk_full_waits_for_the_boundary_that_knows_the_data_folder(tmp_path):
    full = OSError(errno.ENOSPC, "No space left on device")
    assert _through(full) is full
    out = _through(full, folder=tmp_path)
    assert isinstance(out, dg.Failure) and not out.allow_retries
    assert out.description == (f"stage: disk full (no space left on device), writing into {tmp_path}; free space on "
                               f"the filesystem of {tmp_path}: old projects (`pipeline delete PROJECT`), "
                               f"{tmp_path}/cache/ (rebuilt when needed); then run the step again")
    assert out.metadata["path"].value == str(tmp_path) and out.metadata["retryable"].value is False
    quota = _through(OSError(errno.EDQUOT, "Disk quota exceeded", str(tmp_path / "a.wav")), folder=tmp_path)
    assert quota.description.startswith(f"stage: disk full (disk quota exceeded), writing {tmp_path / 'a.wav'};")
    tool = _through(DiskFull("muxing the MP4", "No space left on device", tmp_path / "v.mp4"), folder=tmp_path)
    assert tool.description.startswith(
        f"stage: disk full (no space left on device) while muxing the MP4, writing {tmp_path / 'v.mp4'};")
    other = OSError(errno.EACCES, "Permission denied")
    assert _through(other, folder=tmp_path) is other


def test_provider_and_render_errors_keep_their_messages():
    permanent = _through(PermanentProviderError("openai text", "401 Unauthorized", hint="check the key"))
    assert not permanent.allow_retries and permanent.description == \
        "stage: openai text: 401 Unauthorized (check the key)"
    transient = _through(RenderError("ffmpeg failed (exit 1): boom"))
    assert transient.allow_retries and transient.description == "stage: ffmpeg failed (exit 1): boom"
    waited = _through(RateLimited("p", "429", retry_after=7))
    assert isinstance(waited, dg.RetryRequested) and waited.seconds_to_wait == 7
    final = dg.Failure("already final", allow_retries=False)
    assert _through(final, canceling=lambda: True) is final


def test_a_body_closed_while_an_interrupt_unwinds_is_left_to_close():
    try:
        raise DagsterExecutionInterruptedError()
    except DagsterExecutionInterruptedError:
        closing = GeneratorExit()
        assert _through(closing) is closing
