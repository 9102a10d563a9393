"""Reading a user's files as hostile input: bounded, regular files only, UTF-8, strict YAML.

Every brief, batch file and recurring template is read here, and every file a brief names under the
data folder (context files, a logo) is checked here, so each entry point refuses the same things
with the same messages: a file too large, a special file (a FIFO would block for ever, a
device never ends), bytes that are not UTF-8, duplicate keys (YAML would keep the last silently),
nesting deeper than a brief needs, and alias expansions that would blow up (billion laughs).
"""

import errno
import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

MAX_BYTES = 1 << 20  # 1 MiB: a batch of a few hundred briefs
MAX_DEPTH = 16  # a brief nests at most 5 levels (outline chapters' key points)
MAX_NODES = 200_000  # scalars and collections after expanding aliases
MAX_CONTEXT_FILE_BYTES = 1 << 20
MAX_LOGO_BYTES = 10 << 20
MAX_LOGO_PIXELS = 4096 * 4096
LOGO_FORMATS = ("PNG", "JPEG", "WEBP")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

_KINDS = {stat.S_IFDIR: "a directory", stat.S_IFIFO: "a FIFO (named pipe)", stat.S_IFCHR: "a character device",
          stat.S_IFBLK: "a block device", stat.S_IFSOCK: "a socket", stat.S_IFLNK: "a symbolic link"}


class UnreadableDocument(ValueError):
    """The file cannot be taken as a document; the message says why and what to do."""


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words."""
    return _KINDS.get(stat.S_IFMT(mode), "not a regular file")


def read_text(path: str | Path, limit: int = MAX_BYTES, follow_links: bool = True) -> str:
    """The UTF-8 text of a regular file of at most `limit` bytes; never blocks on a special file.
    With `follow_links=False` a symbolic link is refused, even one swapped in after a check."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | (0 if follow_links else os.O_NOFOLLOW)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        if e.errno == errno.ELOOP and not follow_links:
            raise UnreadableDocument("is a symbolic link: links are not followed here; copy the file in") from None
        raise UnreadableDocument(f"cannot read the file: {e.strerror}") from None
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        os.close(fd)
        raise UnreadableDocument(f"is {file_kind(info.st_mode)}, not a regular file: give a YAML or JSON file")
    with os.fdopen(fd, "rb") as handle:
        if info.st_size > limit:
            raise UnreadableDocument(f"is {info.st_size} bytes; a brief or batch file may be at most {limit} bytes")
        raw = handle.read(limit + 1)
    if len(raw) > limit:
        raise UnreadableDocument(f"is larger than {limit} bytes; a brief or batch file may be at most {limit} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UnreadableDocument(f"is not UTF-8 text (byte {e.start} is 0x{raw[e.start]:02x}): save it as UTF-8") from None


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a key given twice in one mapping."""

    def construct_mapping(self, node, deep=False):  # type: ignore[no-untyped-def]
        seen: dict[Any, Any] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark, "a key must be a plain value",
                    key_node.start_mark) from None
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {key!r} (first at line {seen[key].line + 1}): give each key once",
                    key_node.start_mark)
            seen[key] = key_node.start_mark
        return super().construct_mapping(node, deep=deep)


def _check_shape(text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH and alias expansions over MAX_NODES, from parser events
    (the parser is iterative; the composer and constructor would recurse)."""
    depth = 0
    sizes: list[int] = [0]
    anchors_open: list[str | None] = []
    anchors: dict[str, int] = {}
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                line = event.start_mark.line + 1
                raise UnreadableDocument(f"nests deeper than {MAX_DEPTH} levels (line {line}): a brief needs far fewer")
            sizes.append(1)
            anchors_open.append(event.anchor)
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
            size = sizes.pop()
            anchor = anchors_open.pop()
            if anchor is not None:
                anchors[anchor] = size
            sizes[-1] += size
        elif isinstance(event, yaml.ScalarEvent):
            if event.anchor is not None:
                anchors[event.anchor] = 1
            sizes[-1] += 1
        elif isinstance(event, yaml.AliasEvent):
            sizes[-1] += anchors.get(event.anchor, 1)
        if sizes[-1] > MAX_NODES or sum(sizes) > MAX_NODES:
            raise UnreadableDocument(f"expands to more than {MAX_NODES} values (aliases?): write it out plainly")


def parse_document(text: str) -> Any:
    """The content of a YAML (or JSON) text, refusing duplicate keys, deep nesting and alias bombs."""
    try:
        _check_shape(text)
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise UnreadableDocument(f"not valid YAML{where}: {e.problem or e.context}") from None
    except yaml.YAMLError as e:
        raise UnreadableDocument(f"not valid YAML: {' '.join(str(e).split())}") from None
    except RecursionError:
        raise UnreadableDocument(f"nests deeper than {MAX_DEPTH} levels") from None


def read_document(path: str | Path, limit: int = MAX_BYTES, follow_links: bool = True) -> Any:
    """The content of a YAML or JSON file, read as hostile input (see the module's docstring)."""
    return parse_document(read_text(path, limit, follow_links))


# Files a brief names under the data folder: resolved inside it, and read as what they claim to be.

def resolve_data_path(data_dir: str | Path, relative: str, field: str) -> Path:
    """The file `relative` under `data_dir`, refusing anything that leads outside it."""
    root = Path(data_dir).resolve()
    if _CONTROL.search(relative) or Path(relative).is_absolute():
        raise ValueError(f"{field}: must be a relative path inside the data folder")
    path = (root / relative).resolve()
    if root != path and root not in path.parents:
        raise ValueError(f"{field}: {relative!r} leads outside the data folder")
    try:
        mode = path.stat().st_mode
    except OSError:
        raise ValueError(f"{field}: no file {relative!r} in the data folder {root}") from None
    if not stat.S_ISREG(mode):
        raise ValueError(f"{field}: {relative!r} is {file_kind(mode)}, not a regular file")
    return path


def read_context_file(data_dir: str | Path, relative: str, field: str) -> str:
    """The UTF-8 text of a context file under the data folder (at most 1 MiB)."""
    path = resolve_data_path(data_dir, relative, field)
    try:
        return read_text(path, MAX_CONTEXT_FILE_BYTES)
    except UnreadableDocument as e:
        raise ValueError(f"{field}: {relative!r} {e}") from None


def check_logo(data_dir: str | Path, relative: str, field: str) -> Path:
    """A logo under the data folder that decodes as a PNG, JPEG or WebP image of sane size."""
    from PIL import Image, UnidentifiedImageError

    path = resolve_data_path(data_dir, relative, field)
    if path.stat().st_size > MAX_LOGO_BYTES:
        raise ValueError(f"{field}: {relative!r} is larger than {MAX_LOGO_BYTES >> 20} MiB")
    try:
        with Image.open(path) as image:
            kind, (width, height) = image.format, image.size
            if kind in LOGO_FORMATS and width * height <= MAX_LOGO_PIXELS:
                image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValueError(f"{field}: {relative!r} is not a readable image: give a PNG, JPEG or WebP file") from None
    if kind not in LOGO_FORMATS:
        raise ValueError(f"{field}: {relative!r} is a {kind} image; give a PNG, JPEG or WebP file")
    if width * height > MAX_LOGO_PIXELS:
        raise ValueError(f"{field}: {relative!r} is {width}x{height}; a logo may have at most 4096x4096 pixels")
    return path
