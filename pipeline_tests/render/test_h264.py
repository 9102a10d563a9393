import pytest

from pipeline.render.h264 import is_idr, split_access_units

AUD = b"\x00\x00\x00\x01\x09\xf0"
SPS = b"\x00\x00\x00\x01\x67\x64\x00\x28"
IDR = b"\x00\x00\x01\x65\x88\x84"
P = b"\x00\x00\x01\x41\x9a\x00"


def test_split_at_delimiters():
    stream = AUD + SPS + IDR + AUD + P + AUD + P
    units = split_access_units(stream)
    assert units == [AUD + SPS + IDR, AUD + P, AUD + P]
    assert [is_idr(u) for u in units] == [True, False, False]


def test_stream_without_delimiters_is_refused():
    with pytest.raises(ValueError, match="aud=1"):
        split_access_units(SPS + IDR + P)
