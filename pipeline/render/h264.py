"""Annex B H.264 byte streams: split into access units, so chunks can be cut and repeated."""

_AUD = 9


def _nal_starts(data: bytes) -> list[tuple[int, int]]:
    """(start code position, NAL header position) of every NAL unit."""
    found = []
    i = data.find(b"\x00\x00\x01")
    while i != -1:
        code = i - 1 if i > 0 and data[i - 1] == 0 else i
        found.append((code, i + 3))
        i = data.find(b"\x00\x00\x01", i + 3)
    return found


def split_access_units(data: bytes) -> list[bytes]:
    """Split a stream encoded with access unit delimiters (x264 `aud=1`) into its frames."""
    cuts = [code for code, header in _nal_starts(data) if header < len(data) and data[header] & 0x1F == _AUD]
    if not cuts or cuts[0] != 0:
        raise ValueError("stream does not start with an access unit delimiter (encode with aud=1)")
    return [data[a:b] for a, b in zip(cuts, cuts[1:] + [len(data)])]


def is_idr(access_unit: bytes) -> bool:
    """Whether the access unit holds an IDR slice (a point a decoder can start from)."""
    return any(h < len(access_unit) and access_unit[h] & 0x1F == 5 for _, h in _nal_starts(access_unit))
