"""The README's error-code table is the code table (pipeline/codes.py): same codes, retryability, exit status."""

import re
from pathlib import Path

from pipeline import codes

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _table() -> dict[str, tuple[bool, int]]:
    section = README.split("## Error codes", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `([A-Z<>_]+)` \| [^|]+ \| (yes|no) \| (\d) \|$", section, re.M)
    found: dict[str, tuple[bool, int]] = {}
    for code, retryable, status in rows:
        for name in ([code.replace("<ROLE>", role.upper()) for role in codes.ROLES] if "<ROLE>" in code else [code]):
            found[name] = (retryable == "yes", int(status))
    return found


def test_the_readme_lists_every_code_as_the_code_table_does():
    assert _table() == {c.code: (c.retryable, c.exit_status) for c in codes.CODES.values()}


def test_the_codes_the_issue_names_exist():
    named = {"RENDER_TOOL_MISSING", "DISK_FULL", "BRIEF_INVALID", "PROJECT_ID_INVALID", "PROJECT_BUSY",
             "INPUT_UNREADABLE", "BUDGET_EXCEEDED", "SCRIPT_INVALID", "RUN_WORKER_LOST", "CANCELED"}
    kinds = {"AUTH", "RATE_LIMITED", "QUOTA", "CONTENT_POLICY", "TIMEOUT", "SERVER_ERROR", "BAD_REQUEST"}
    assert named | {f"{r.upper()}_{k}" for r in codes.ROLES for k in kinds} <= set(codes.CODES)
