"""`pipeline demo` as a newcomer sees it: one progress bar and the artifact table, Dagster's log in a
file whose path is printed; `--debug` shows that log on the screen instead."""

import re
from pathlib import Path

import pytest
import yaml

from pipeline.cli import main
from pipeline.cli.demo import bar
from pipeline_tests.defs.briefs import small_brief

LOG_PATH = re.compile(r"^Dagster's full log: (\S+)$", re.MULTILINE)


@pytest.mark.parametrize("percent, asset, item, line", [
    (0, "starting", None, "[........................]   0%  starting"),
    (45, "narration", (26, 55, "cues"), "[###########.............]  45%  narration  26 of 55 cues"),
    (100, "finished", None, "[########################] 100%  finished"),
    (140, "video", None, "[########################] 100%  video"),
])
def test_the_bar_shows_percent_asset_and_item(percent, asset, item, line):
    assert bar(percent, asset, item) == line


def _brief_file(tmp_path: Path, project: str, **changes) -> str:
    path = tmp_path / f"{project}.yaml"
    path.write_text(yaml.safe_dump(small_brief(project, **changes).model_dump(mode="json", exclude_none=True)))
    return str(path)


@pytest.fixture
def demo_env(redis_server, dagster_home, data_dir, monkeypatch):
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    return dagster_home


def test_the_demo_shows_a_bar_and_the_artifact_table_and_keeps_dagsters_log_in_a_file(demo_env, data_dir,
                                                                                      tmp_path, capfd):
    assert main(["demo", _brief_file(tmp_path, "demo-quiet"), "--stop-at", "script", "--owner", "newcomer"]) == 0
    out, err = capfd.readouterr()
    screen = out + err
    assert " - DEBUG - " not in screen and "STEP_START" not in screen, screen
    assert len(screen.strip().splitlines()) <= 16, screen
    bars = [line for line in screen.splitlines() if line.startswith("[")]
    assert bars[-1].endswith("100%  finished") and any("chapters" in line for line in bars), bars
    assert re.search(r"SUCCESS in [0-9.]+ s \(owner newcomer\)", out)
    rows = {line.split()[0]: line for line in out.splitlines() if line.startswith("  ") and "kB" in line}
    assert set(rows) == {"outline", "script"}
    assert rows["script"].endswith(str(data_dir / "projects" / "demo-quiet" / "script.json"))
    log = Path(LOG_PATH.search(out).group(1))
    assert log.parent == demo_env / "logs"
    text = log.read_text()
    assert len(text.splitlines()) > 50
    for step in ("brief", "outline", "chapters", "script"):
        assert f"- DEBUG - {step} - STEP_START - " in text
    assert "RUN_SUCCESS" in text and "chapters: chapter 2 of 2 written" in text


def test_a_failed_demo_says_why_and_where_the_log_is(demo_env, tmp_path, capfd):
    assert main(["demo", _brief_file(tmp_path, "demo-fails", budget={"tokens": 1}), "--stop-at", "outline"]) == 1
    out, _ = capfd.readouterr()
    assert "failed in outline" in out and "FAILURE" in out
    assert "[BUDGET_EXCEEDED] outline: budget.tokens exceeded" in out and "Raise budget.tokens" in out
    assert "STEP_FAILURE" in Path(LOG_PATH.search(out).group(1)).read_text()


def test_debug_shows_dagsters_log_on_the_screen_instead(demo_env, tmp_path, capfd):
    assert main(["demo", _brief_file(tmp_path, "demo-debug"), "--stop-at", "outline", "--debug"]) == 0
    out, err = capfd.readouterr()
    assert " - DEBUG - " in err and "STEP_START" in err
    assert "Dagster's full log" not in out and not (demo_env / "logs").exists()
    assert not any(line.startswith("[") for line in out.splitlines())
