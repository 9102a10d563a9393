import pytest

from pipeline.render.timing import MAX_CUE_UNITS, frame_spans, split_cues, to_srt, to_vtt


@pytest.mark.parametrize(("text", "expected"), [
    ("One. Two! Three?", ["One.", "Two!", "Three?"]),
    ("He said \"stop.\" Then he left.", ["He said \"stop.\"", "Then he left."]),
    ("天色渐暗。她走进书店！为什么？", ["天色渐暗。", "她走进书店！", "为什么？"]),
    ("", []),
])
def test_split_cues_sentences(text, expected):
    assert split_cues(text, "zh" if "。" in text or "？" in text else "en") == expected


@pytest.mark.parametrize("language,text", [
    ("en", "This sentence is deliberately long, with several clauses, so that it cannot fit on two subtitle lines at all, and must be split."),
    ("en", " ".join(["word"] * 50) + "."),
    ("zh", "这是一个非常非常长的句子，它有很多很多的从句，而且它根本放不进两行字幕里面，所以必须被拆开才能正常显示出来。"),
    ("zh", "长" * 100 + "。"),
])
def test_long_sentences_are_split_within_limit(language, text):
    cues = split_cues(text, language)
    assert len(cues) > 1
    units = [len(c) if language == "zh" else len(c.split()) for c in cues]
    assert max(units) <= MAX_CUE_UNITS[language]
    joined = "".join(cues) if language == "zh" else " ".join(cues)
    assert joined.replace(" ", "") == text.replace(" ", "")


@pytest.mark.parametrize(("starts", "total", "fps", "spans"), [
    ([0.0, 1.0, 2.0], 3.0, 30, [30, 30, 30]),
    ([0.0, 1.01, 2.49], 3.333, 30, [30, 45, 25]),
    ([0.0, 0.01], 0.02, 30, [0, 1]),
])
def test_frame_spans_add_up_to_total(starts, total, fps, spans):
    assert frame_spans(starts, total, fps) == spans
    assert sum(spans) == round(total * fps)


def test_srt_and_vtt():
    cues = [(0.0, 1.5, "Hello."), (1.5, 3723.004, "世界。")]
    assert to_srt(cues) == "1\n00:00:00,000 --> 00:00:01,500\nHello.\n\n2\n00:00:01,500 --> 01:02:03,004\n世界。\n"
    assert to_vtt(cues).startswith("WEBVTT\n\n00:00:00.000 --> 00:00:01.500\nHello.\n")
