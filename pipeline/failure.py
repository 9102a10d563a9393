"""One record for every failure the pipeline reports: what failed, where, and what to do.

Every boundary that reports a failure (the assets' boundary into Dagster, the CLI, the projection)
builds a `Problem`; its `code` is one of pipeline/codes.py.
"""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """A failure as a user is told it."""

    message: str  # what failed, e.g. "disk full while writing the narration"
    where: str = ""  # the stage, field or path it failed at
    code: str = "STEP_FAILED"  # a stable code from pipeline/codes.py
    hint: str = ""  # what to do about it
    retryable: bool = False
    details: dict[str, Any] = field(default_factory=dict)  # extra facts (paths, statuses) for metadata

    def text(self) -> str:
        """One line: where: message; hint (unless the message already ends with it, as a provider's does)."""
        head = f"{self.where}: {self.message}" if self.where else self.message
        return f"{head}; {self.hint}" if self.hint and self.hint not in self.message else head

    def metadata(self) -> dict[str, Any]:
        """The record as flat metadata (Dagster failure metadata, Redis entries)."""
        return {"error_code": self.code, "message": self.message, "where": self.where, "hint": self.hint,
                "retryable": self.retryable, **self.details}
