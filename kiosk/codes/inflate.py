"""Bounded decompression for scanned codes: a compressed bomb is refused after at most `limit` bytes of output."""

from __future__ import annotations

import zlib

from kiosk.codes.base import CodeError, Reason

ZLIB = zlib.MAX_WBITS
"""zlib container (EU DCC)."""
RAW_DEFLATE = -zlib.MAX_WBITS
"""Raw DEFLATE without header or checksum (SMART Health Cards)."""


def inflate(data: bytes, limit: int, wbits: int = ZLIB) -> bytes:
    """Decompress `data`, which must be one complete stream decompressing to at most `limit` bytes."""
    inflater = zlib.decompressobj(wbits)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise CodeError(Reason.MALFORMED, "compressed data is damaged") from exc
    if len(out) > limit or inflater.unconsumed_tail:
        raise CodeError(Reason.TOO_LARGE, f"more than {limit} bytes once decompressed")
    if not inflater.eof:
        raise CodeError(Reason.MALFORMED, "compressed data is truncated")
    if inflater.unused_data:
        raise CodeError(Reason.MALFORMED, "data after the end of the compressed code")
    return out
