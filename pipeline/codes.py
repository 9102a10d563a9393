"""Stable error codes: one per class of failure, for operators and services that act on failures
without parsing English. A leaf module; `Problem.code` (pipeline/failure.py) carries one.

Codes never change meaning once released; new classes get new codes.
"""

from dataclasses import dataclass

ROLES = ("text", "speech", "images", "avatar", "publisher", "footage")
# provider failure kinds: (meaning, retried by the step's RetryPolicy)
KINDS = {
    "auth": ("the provider refused the credentials (401/403)", False),
    "rate_limited": ("the provider asked to slow down (429) for longer than the client waits", True),
    "quota": ("the provider account's quota or credit is exhausted", False),
    "content_policy": ("the provider refused the input on policy grounds", False),
    "timeout": ("no answer within the timeout, after the client's retries", True),
    "server_error": ("the provider failed (5xx, dropped connection), after the client's retries", True),
    "bad_request": ("the provider refused the request as invalid (400/404/422), or a setting it needs is wrong", False),
    "invalid_output": ("the model's answer stayed invalid after every repair attempt", False),
}


@dataclass(frozen=True)
class Code:
    code: str
    meaning: str
    retryable: bool
    exit_status: int  # what the CLI exits with when it reports this code


def provider_code(role: str, kind: str) -> str:
    """e.g. TEXT_RATE_LIMITED, IMAGES_CONTENT_POLICY."""
    return f"{role}_{kind}".upper()


CODES: dict[str, Code] = {
    **{provider_code(r, k): Code(provider_code(r, k), f"{r}: {m}", t, 1) for r in ROLES for k, (m, t) in KINDS.items()},
    "RENDER_TOOL_MISSING": Code("RENDER_TOOL_MISSING", "ffmpeg, ffprobe, espeak-ng or a font is not installed", False, 1),
    "RENDER_FAILED": Code("RENDER_FAILED", "a render tool failed on this project's media", True, 1),
    "DISK_FULL": Code("DISK_FULL", "the disk (or quota) of the data folder is full", False, 1),
    "BRIEF_INVALID": Code("BRIEF_INVALID", "the brief breaks a rule (the message names the field)", False, 2),
    "PROJECT_ID_INVALID": Code("PROJECT_ID_INVALID", "a project id that is not a safe slug", False, 2),
    "PROJECT_BUSY": Code("PROJECT_BUSY", "the project already has a queued or running run", False, 3),
    "INPUT_UNREADABLE": Code("INPUT_UNREADABLE", "a file given as input cannot be read (special, too large, not UTF-8, bad YAML)", False, 2),
    "BUDGET_EXCEEDED": Code("BUDGET_EXCEEDED", "the step would take the project over a budget limit", False, 1),
    "SCRIPT_INVALID": Code("SCRIPT_INVALID", "the video script breaks its timing rules after every repair", False, 1),
    "RUN_WORKER_LOST": Code("RUN_WORKER_LOST", "the run's worker process died (the run is retried from failure once)", True, 1),
    "CANCELED": Code("CANCELED", "the run was canceled; finished items are kept", False, 4),
    "SERVICE_UNAVAILABLE": Code("SERVICE_UNAVAILABLE", "the Dagster webserver cannot be reached (PIPELINE_DAGSTER_URL)", True, 1),
    "REQUEST_FAILED": Code("REQUEST_FAILED", "the Dagster webserver refused or failed a request", False, 1),
    "UPSTREAM_MISSING": Code("UPSTREAM_MISSING", "an asset the step reads has not been made for the project: materialise it first", False, 1),
    "APPROVAL_REQUIRED": Code("APPROVAL_REQUIRED", "the publication waits for `pipeline approve PROJECT`", False, 1),
    "STORAGE_UNAVAILABLE": Code("STORAGE_UNAVAILABLE", "the S3 object store could not be reached, or refused a request", True, 1),
    "ARGUMENT_INVALID": Code("ARGUMENT_INVALID", "a command-line argument is malformed (the message says the form it takes)", False, 2),
    "SETTINGS_INVALID": Code("SETTINGS_INVALID", "an environment variable of the deployment is missing or wrong (the message names it)", False, 2),
    "STEP_FAILED": Code("STEP_FAILED", "an unexpected error in a step (a bug): the message and the run's logs say more", True, 1),
}


def describe(code: str) -> Code:
    """The code's entry; an unknown code reads as STEP_FAILED."""
    return CODES.get(code, CODES["STEP_FAILED"])
