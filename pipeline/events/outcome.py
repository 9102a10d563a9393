"""What a failed or canceled run tells its listeners: the failure record (error_code, stage,
retryable, hint, message) read from the event log, for the stream entry, job_result and batches.

Steps report failures through the project's boundary (pipeline/defs/common.py), which puts the
record in the failure's metadata; a run that fails with no step failure lost its worker.
"""

from dataclasses import asdict, dataclass
from typing import Any

from pipeline import codes

_LOST = ("worker", "outside the execution context", "heartbeat")


@dataclass(frozen=True)
class Outcome:
    error_code: str
    stage: str
    retryable: bool
    hint: str
    message: str

    def fields(self) -> dict[str, str]:
        """The flat fields a stream entry carries (schema v2)."""
        return {"error_code": self.error_code, "stage": self.stage, "retryable": "true" if self.retryable else "false",
                "hint": self.hint}

    def record(self) -> dict[str, Any]:
        """The `error` object of job_result and of a batch result."""
        return asdict(self)


def _value(metadata: dict[str, Any], key: str) -> Any:
    raw = metadata.get(key)
    return getattr(raw, "value", raw)


def of_step_failure(step: str, data: Any, fallback: str) -> Outcome:
    """The record of a STEP_FAILURE event's data (StepFailureData)."""
    user = getattr(data, "user_failure_data", None)
    metadata = dict(user.metadata) if user is not None and user.metadata else {}
    message = (user.description if user is not None and user.description else None) or (
        data.error.message.strip() if getattr(data, "error", None) else fallback)
    code = _value(metadata, "error_code") or "STEP_FAILED"
    retryable = _value(metadata, "retryable")
    return Outcome(error_code=str(code), stage=step,
                   retryable=codes.describe(code).retryable if retryable is None else bool(retryable),
                   hint=str(_value(metadata, "hint") or ""), message=message)


def of_run_failure(message: str, stage: str) -> Outcome:
    """A run that failed with no step failure: its worker was lost (killed, out of memory, a host gone)."""
    if any(words in message.lower() for words in _LOST):
        return Outcome("RUN_WORKER_LOST", stage, True,
                       "the daemon retries the run from failure once (run_retries in dagster.yaml); otherwise "
                       "`pipeline resume PROJECT`: finished items are kept", message)
    return Outcome("STEP_FAILED", stage, True, "see the run's logs in the Dagster UI or `pipeline logs PROJECT`",
                   message)


def of_cancel(message: str, stage: str) -> Outcome:
    return Outcome("CANCELED", stage, False, "finished items are kept: `pipeline resume PROJECT` goes on", message)
