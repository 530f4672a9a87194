"""Bounded decompression for scanned codes: a compressed bomb is refused after at most `limit` bytes of output."""

from __future__ import annotations

import zlib

from sync.core.codes.base import CodeError, Reason

ZLIB = zlib.MAX_WBITS
"""zlib container (EU DCC)."""
RAW_DEFLATE = -zlib.MAX_WBITS
"""Raw DEFLATE without header or checksum (SMART Health Cards)."""
_STEP = {ZLIB: "zlib decompression", RAW_DEFLATE: "raw DEFLATE decompression"}
"""How a failure names its step, so a damaged stream is never mistaken for a damaged envelope around it."""


def inflate(data: bytes, limit: int, wbits: int = ZLIB) -> bytes:
    """Decompress `data`, which must be one complete stream decompressing to at most `limit` bytes."""
    step = _STEP[wbits]
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise CodeError.malformed(step, "the stream is damaged") from exc
    if len(out) > limit or inflater.unconsumed_tail:
        raise CodeError(Reason.TOO_LARGE, f"{step} stopped: more than {limit} bytes")
    if not inflater.eof:
        raise CodeError.malformed(step, "the stream is truncated")
    if inflater.unused_data:
        raise CodeError.malformed(step, "data after the end of the stream")
    return out
