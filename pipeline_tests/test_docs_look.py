"""The README's frames of the look fields: each one the README shows is committed and small, and the sheets of
the subtitle styles, the word highlight and the music are what docs/look/make.py draws with the renderer."""

import re
import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
LOOK = ROOT / "docs" / "look"


def test_every_picture_the_readme_shows_is_committed_and_small():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    shown = re.findall(r"!\[[^\]]*\]\((docs/look/[^)]+)\)", readme)
    assert {"docs/look/subtitles.jpg", "docs/look/words.jpg", "docs/look/music.png"} <= set(shown)
    for path in shown:
        assert (ROOT / path).is_file(), path
        assert (ROOT / path).stat().st_size <= 100_000, f"{path} should stay small"


def test_the_style_sheets_are_drawn_by_make_py(tmp_path):
    sys.path.insert(0, str(LOOK))
    try:
        import make
    finally:
        sys.path.remove(str(LOOK))
    drawn = make.subtitle_sheets(tmp_path, tmp_path)
    for path in drawn:
        with Image.open(path) as new, Image.open(LOOK / path.name) as committed:
            assert new.size == committed.size, f"docs/look/{path.name} is out of date: run docs/look/make.py"
