"""The brief reader under generated and hand-written malformed input: one clear message naming the
field and the rule, nothing created, no traceback, no hang, nothing read outside the data folder."""

import json
import os
import signal
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.brief import BriefError, load_brief, parse_brief
from pipeline.documents import MAX_BYTES
from pipeline.ids import InvalidProjectId, check_project_id, is_project_id
from pipeline.store import ProjectFiles
from pipeline_tests.hostile.harness import assert_one_clear_message, run_cli, tree

FAST = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
GOOD = {"project_id": "p1", "prompt": "A lighthouse keeper's last night."}

# (file name, content, words the message must contain)
CORPUS = [
    ("scalar.yaml", b"hello\n", ["must be a mapping"]),
    ("list.yaml", b"- a\n- b\n", ["must be a mapping"]),
    ("empty.yaml", b"", ["must be a mapping"]),
    ("latin1.yaml", "project_id: café\n".encode("latin-1"), ["not utf-8"]),
    ("bom16.yaml", "project_id: p1\n".encode("utf-16"), ["not utf-8"]),
    ("nul.yaml", b"project_id: p1\x00\n", ["yaml"]),
    ("dup.yaml", b"project_id: p1\nprompt: a\nprompt: b\n", ["duplicate key 'prompt'"]),
    ("dup-nested.yaml", b"project_id: p1\nprompt: a\nvideo: {voice: x, voice: y}\n", ["duplicate key 'voice'"]),
    ("deep.yaml", b"project_id: p1\nprompt: a\nx: " + b"[" * 5000 + b"]" * 5000 + b"\n", ["nests deeper"]),
    ("deep-map.yaml", b"a:\n" + b"".join(b"  " * n + b"b:\n" for n in range(1, 40)), ["nests deeper"]),
    ("bomb.yaml", b"a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
                  b"c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
                  b"e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: [*e,*e,*e]\n", ["expands to more than"]),
    ("python-tag.yaml", b"project_id: !!python/object/apply:os.system [echo owned]\nprompt: a\n", ["yaml"]),
    ("unclosed.yaml", b"project_id: [p1\n", ["not valid yaml", "line"]),
    ("bool-int.yaml", b"project_id: p1\nprompt: a\nchapters: true\n", ["chapters", "integer"]),
    ("yes-bool.yaml", b"project_id: p1\nprompt: a\npresenter: {enabled: 'yes'}\n", ["presenter.enabled", "boolean"]),
    ("str-int.yaml", b"project_id: p1\nprompt: a\nseed: '5'\n", ["seed", "integer"]),
    ("yes-list.yaml", b"project_id: p1\nprompt: a\nvideo: {ken_burns: 'yes'}\n", ["video.ken_burns", "list"]),
    ("bool-list.yaml", b"project_id: p1\nprompt: a\nvideo: {ken_burns: [true]}\n", ["video.ken_burns", "list"]),
    ("range.yaml", b"project_id: p1\nprompt: a\nvideo: {ken_burns: [0, 5000]}\n", ["ken_burns", "out of range"]),
    ("negative.yaml", b"project_id: p1\nprompt: a\nvideo: {ken_burns: [-1]}\n", ["ken_burns", "out of range"]),
    ("con.yaml", b"project_id: con\nprompt: a\n", ["project_id", "reserved"]),
    ("lpt9.yaml", b"project_id: lpt9\nprompt: a\n", ["project_id", "reserved"]),
    ("dots.yaml", b"project_id: '..'\nprompt: a\n", ["project_id", "'..'"]),
    ("voice-path.yaml", b"project_id: p1\nprompt: a\nvideo: {voice: ../../bin/sh}\n", ["video.voice", "voice name"]),
    ("voice-option.yaml", b"project_id: p1\nprompt: a\nvideo: {voice: --help}\n", ["video.voice", "voice name"]),
    ("voice-control.yaml", b'project_id: p1\nprompt: a\nvideo: {voice: "en\\nus"}\n', ["video.voice"]),
    ("logo-text.yaml", b"project_id: p1\nprompt: a\nvideo: {logo: sources/not-an-image.png}\n",
     ["video.logo", "not a readable image"]),
    ("logo-outside.yaml", b"project_id: p1\nprompt: a\nvideo: {logo: ../outside/precious.png}\n",
     ["video.logo", "outside the data folder"]),
    ("logo-abs.yaml", b"project_id: p1\nprompt: a\nvideo: {logo: /etc/passwd}\n", ["video.logo", "relative path"]),
    ("logo-link.yaml", b"project_id: p1\nprompt: a\nvideo: {logo: sources/link.png}\n", ["outside the data folder"]),
    ("context-fifo.yaml", b"project_id: p1\nprompt: a\ncontext: [{file: sources/pipe}]\n", ["fifo"]),
    ("context-binary.yaml", b"project_id: p1\nprompt: a\ncontext: [{file: sources/binary.txt}]\n", ["not utf-8"]),
    ("control.yaml", b'project_id: p1\nprompt: "a\\x1b[2Jb"\n', ["prompt", "control"]),
    ("unknown.yaml", b"project_id: p1\nprompt: a\nrm_rf: true\n", ["rm_rf", "unknown field"]),
]


class Hang(Exception):
    pass


def _deadline(seconds: int):
    def expire(signum, frame):
        raise Hang(f"no answer within {seconds} s")

    signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)


@pytest.fixture
def hostile_data(data_dir, tmp_path, monkeypatch) -> Path:
    """A data folder with traps in it (a FIFO, a link out, bad bytes), and precious files outside it."""
    monkeypatch.setenv("PIPELINE_DATA_DIR", str(data_dir))
    outside = tmp_path / "outside"
    outside.mkdir()
    from PIL import Image

    Image.new("RGB", (8, 8), "red").save(outside / "precious.png")
    sources = data_dir / "sources"
    (sources / "not-an-image.png").write_text("just text", encoding="utf-8")
    (sources / "link.png").symlink_to(outside / "precious.png")
    (sources / "binary.txt").write_bytes(b"\xff\xfe\x00junk")
    os.mkfifo(sources / "pipe")
    return data_dir


@pytest.mark.parametrize("name,content,words", CORPUS, ids=[c[0] for c in CORPUS])
def test_corpus_of_malformed_briefs_is_refused_clearly(name, content, words, hostile_data, tmp_path):
    path = tmp_path / name
    path.write_bytes(content)
    before = tree(tmp_path)
    _deadline(20)
    try:
        outcome = run_cli("validate", str(path))
    finally:
        signal.alarm(0)
    assert outcome.code == 2, outcome
    assert_one_clear_message(outcome, *words)
    assert "[INPUT_UNREADABLE]" in outcome.err or "[BRIEF_INVALID]" in outcome.err
    assert tree(tmp_path) == before
    assert "owned" not in outcome.out


@pytest.mark.parametrize("special", ["fifo", "dev-zero", "directory", "link-to-dev-zero", "too-large", "missing"])
def test_special_and_oversized_files_are_refused_at_once(special, tmp_path):
    path = tmp_path / "brief.yaml"
    if special == "fifo":
        os.mkfifo(path)
    elif special == "dev-zero":
        path = Path("/dev/zero")
    elif special == "directory":
        path.mkdir()
    elif special == "link-to-dev-zero":
        path.symlink_to("/dev/zero")
    elif special == "too-large":
        path.write_bytes(b"project_id: p1\nprompt: " + b"a" * (MAX_BYTES + 10) + b"\n")
    _deadline(10)
    try:
        outcome = run_cli("validate", str(path))
    finally:
        signal.alarm(0)
    assert outcome.code == 2 and "[INPUT_UNREADABLE]" in outcome.err
    assert_one_clear_message(outcome, {"fifo": "fifo", "dev-zero": "character device", "directory": "directory",
                                       "link-to-dev-zero": "character device", "too-large": "at most",
                                       "missing": "no such file"}[special])


@FAST
@given(st.binary(max_size=400))
def test_any_bytes_give_a_brief_or_one_brief_error(tmp_path_factory, blob):
    path = tmp_path_factory.mktemp("bytes") / "brief.yaml"
    path.write_bytes(blob)
    try:
        load_brief(path)
    except BriefError as e:
        assert e.problems and all(p.strip() for p in e.problems)


_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**40, 2**40) | st.floats(allow_nan=True) | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)
_FIELDS = ["project_id", "title", "kind", "language", "prompt", "chapters", "chapter_words", "style", "seed",
           "stop_at", "context", "outline", "source_text", "video", "presenter", "publish", "budget"]


@FAST
@given(st.dictionaries(st.sampled_from(_FIELDS), _values, max_size=5))
def test_generated_field_values_are_accepted_or_refused_naming_the_field(changes):
    data = {**GOOD, **changes}
    try:
        brief = parse_brief(data)
    except BriefError as e:
        for problem in e.problems:
            field = problem.split(":", 1)[0].split(".")[0]
            assert field in _FIELDS or field == "brief", problem
        return
    assert is_project_id(brief.project_id)
    for name in ("chapters", "chapter_words", "seed"):
        if name in changes:
            assert type(changes[name]) is int, f"{name} accepted {changes[name]!r}"
    if "video" in changes and isinstance(changes["video"], dict) and "ken_burns" in changes["video"]:
        value = changes["video"]["ken_burns"]
        assert value is True or value is False or (isinstance(value, list) and all(type(i) is int for i in value))


@FAST
@given(st.text(alphabet=string.printable + "\x00\x1b/\\.é中", max_size=70))
def test_project_ids_are_one_rule_and_never_leave_the_projects_folder(tmp_path_factory, value):
    root = tmp_path_factory.getbasetemp() / "ids"
    try:
        brief = parse_brief({**GOOD, "project_id": value})
    except BriefError:
        assert not is_project_id(value.strip())  # briefs strip surrounding spaces, then apply the rule
        with pytest.raises(InvalidProjectId):
            ProjectFiles(root, value)
        return
    assert is_project_id(brief.project_id) and check_project_id(brief.project_id) == brief.project_id
    folder = ProjectFiles(root, brief.project_id).root.resolve()
    assert folder.parent == (root / "projects").resolve()


@FAST
@given(st.sampled_from(["chapters", "chapter_words", "seed"]),
       st.one_of(st.booleans(), st.text(max_size=5), st.floats(allow_nan=False)))
def test_numbers_are_never_taken_from_booleans_or_text(field, value):
    with pytest.raises(BriefError, match=field):
        parse_brief({**GOOD, field: value})


def test_run_config_briefs_are_read_the_same_way():
    """The brief asset reads run config (JSON-like) with the same strict rules as the CLI."""
    assert parse_brief(json.loads(json.dumps({**GOOD, "video": {"ken_burns": [1, 2]}}))).video.ken_burns == [1, 2]
    with pytest.raises(BriefError, match="presenter.enabled"):
        parse_brief({**GOOD, "presenter": {"enabled": "true"}})
