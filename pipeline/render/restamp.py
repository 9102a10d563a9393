"""Repeat H.264 frames without encoding them again: a frame that copies the one before it, re-stamped.

A run of word stills (word mode) is encoded as an IDR frame, one repeat of it and one P-frame per
later word: x264 codes the repeat of an unchanged picture as a P-frame of skipped macroblocks only,
which copies whatever frame precedes it. To show a word for n frames, that skip frame is written n - 1
times after it; each copy, and each later P-frame, gets the `frame_num` (and picture order count)
of its new place in the run, overwritten in place in the slice header: both are fixed-width fields
before anything of variable length changes, so the rest of the slice, its entropy-coded data
included, is copied bit for bit. The encoder analyses one frame per word instead of one per frame.
"""

import re
from dataclasses import dataclass

from pipeline.render.h264 import _nal_starts

_SLICE, _IDR, _SPS, _PPS = 1, 5, 7, 8
_EMULATION = re.compile(b"\x00\x00(?=[\x00-\x03])")
_HIGH = {100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135}


class StreamError(ValueError):
    """A stream this module cannot re-stamp (a layout x264 does not write with the renderer's settings)."""


def unescape(payload: bytes) -> bytes:
    """The RBSP of a NAL unit's payload: emulation prevention bytes (00 00 03) removed."""
    return payload.replace(b"\x00\x00\x03", b"\x00\x00")


def escape(rbsp: bytes) -> bytes:
    """An RBSP with emulation prevention bytes inserted, as it goes in a NAL unit."""
    return _EMULATION.sub(b"\x00\x00\x03", rbsp)


class _Bits:
    """Reads an RBSP bit by bit: fixed-width and Exp-Golomb fields."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def u(self, n: int) -> int:
        value = 0
        for _ in range(n):
            byte = self.data[self.pos >> 3] if (self.pos >> 3) < len(self.data) else 0
            value = (value << 1) | ((byte >> (7 - (self.pos & 7))) & 1)
            self.pos += 1
        return value

    def ue(self) -> int:
        zeros = 0
        while self.u(1) == 0:
            zeros += 1
            if zeros > 31:
                raise StreamError("malformed Exp-Golomb code")
        return (1 << zeros) - 1 + self.u(zeros)

    def se(self) -> int:
        k = self.ue()
        return (k + 1) // 2 if k % 2 else -(k // 2)


def _put(data: bytearray, pos: int, width: int, value: int) -> None:
    """Overwrite `width` bits of `data` at bit `pos` with `value`."""
    for i in range(width):
        bit = (value >> (width - 1 - i)) & 1
        byte, shift = (pos + i) >> 3, 7 - ((pos + i) & 7)
        data[byte] = (data[byte] & ~(1 << shift)) | (bit << shift)


@dataclass(frozen=True)
class Layout:
    """What a slice header's numbering depends on: from the sequence and picture parameter sets."""

    frame_num_bits: int
    poc_type: int
    poc_lsb_bits: int  # pic_order_cnt_type 0 only
    frame_mbs_only: bool


def parameters(units: list[bytes]) -> Layout:
    """The layout of a stream, from its first sequence parameter set (repeat-headers=1 puts one at every IDR)."""
    for unit in units:
        for _, header in _nal_starts(unit):
            if header < len(unit) and unit[header] & 0x1F == _SPS:
                end = unit.find(b"\x00\x00\x01", header)
                return _sps(unescape(unit[header + 1:end if end != -1 else len(unit)]))
    raise StreamError("no sequence parameter set in the stream")


def _sps(rbsp: bytes) -> Layout:
    bits = _Bits(rbsp)
    profile = bits.u(8)
    bits.u(16)  # constraint flags, level
    bits.ue()  # seq_parameter_set_id
    if profile in _HIGH:
        if bits.ue() == 3:  # chroma_format_idc
            bits.u(1)
        bits.ue(), bits.ue()  # bit depths
        bits.u(1)
        if bits.u(1):
            raise StreamError("scaling matrices in the sequence parameter set")
    frame_num_bits = bits.ue() + 4
    poc_type = bits.ue()
    poc_lsb_bits = 0
    if poc_type == 0:
        poc_lsb_bits = bits.ue() + 4
    elif poc_type == 1:
        raise StreamError("pic_order_cnt_type 1")
    bits.ue()  # max_num_ref_frames
    bits.u(1)
    bits.ue(), bits.ue()  # size in macroblocks
    return Layout(frame_num_bits, poc_type, poc_lsb_bits, bool(bits.u(1)))


def _restamp_nal(nal: bytes, layout: Layout, number: int) -> bytes:
    """A non-IDR slice NAL unit with `frame_num` (and pic_order_cnt_lsb) for frame `number` of its run."""
    rbsp = bytearray(unescape(nal[1:]))
    bits = _Bits(bytes(rbsp))
    bits.ue(), bits.ue(), bits.ue()  # first_mb_in_slice, slice_type, pic_parameter_set_id
    _put(rbsp, bits.pos, layout.frame_num_bits, number % (1 << layout.frame_num_bits))
    bits.pos += layout.frame_num_bits
    if not layout.frame_mbs_only and bits.u(1):
        raise StreamError("field pictures")
    if layout.poc_type == 0:
        _put(rbsp, bits.pos, layout.poc_lsb_bits, (2 * number) % (1 << layout.poc_lsb_bits))
    return nal[:1] + escape(bytes(rbsp))


def restamp(unit: bytes, layout: Layout, number: int) -> bytes:
    """An access unit of one P-frame re-numbered as frame `number` (from 0 at the IDR) of its run."""
    starts = _nal_starts(unit)
    parts, last = [], 0
    for n, (code, header) in enumerate(starts):
        end = starts[n + 1][0] if n + 1 < len(starts) else len(unit)
        kind = unit[header] & 0x1F
        if kind == _IDR:
            raise StreamError("an IDR frame cannot be repeated inside a run")
        if kind == _SLICE:
            parts += [unit[last:header], _restamp_nal(unit[header:end], layout, number)]
            last = end
    parts.append(unit[last:])
    return b"".join(parts)


def is_skip(unit: bytes, macroblocks: int) -> bool:
    """Whether a P-frame is small enough to hold skipped macroblocks only: a CABAC skip flag costs a
    small fraction of a bit, and any coded macroblock costs bytes."""
    return len(unit) <= 64 + macroblocks // 64


def build_run(idr: bytes, skip: bytes, changes: list[bytes], counts: list[int], layout: Layout) -> list[bytes]:
    """The access units of a run: frame 0 (`idr`) shown `counts[0]` frames, then each P-frame of `changes`
    shown `counts[k]` frames, repeats made of the skip frame; every frame numbered by its place."""
    if len(counts) != len(changes) + 1 or counts[0] < 1:
        raise StreamError(f"{len(counts)} frame counts for {len(changes) + 1} distinct frames")
    out, number = [idr], 0
    for k, count in enumerate(counts):
        if k > 0:
            if count < 1:
                raise StreamError("a distinct frame shown for no frame")
            number += 1
            out.append(restamp(changes[k - 1], layout, number))
        for _ in range(count - 1):
            number += 1
            out.append(restamp(skip, layout, number))
    return out
