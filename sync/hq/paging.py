"""Keyset pagination: a page is 'the next N rows after this key' (or 'the N rows before it'), never OFFSET,
so the thousandth page of a gate's month costs what the first does.

The cursor in a link is the key of the row at the page's edge, as base64url JSON: opaque to staff, readable
to anyone debugging, and checked when it comes back, value by value against the type of the column it pages
(a mangled or crafted link gets a clear error, never a 500 or a database error: no text where a number is
paged, no number beyond a 64-bit column, no NUL or lone surrogate, which PostgreSQL refuses).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from sqlalchemy import Connection, Select, tuple_
from sqlalchemy.sql.elements import ColumnElement

T = TypeVar("T")
PAGE_SIZE = 50
MAX_CURSOR_CHARS = 1000
"""A cursor holds one row's key (a time and an id at most): far shorter than this."""
MAX_KEY_CHARS = 200
_INT64 = 2**63


class CursorError(ValueError):
    """A page link's cursor is not one HQ made."""


def encode_cursor(key: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(list(key), separators=(",", ":")).encode()).decode().rstrip("=")


def _fits(value: object, kind: type) -> bool:
    """Whether a decoded key value can be compared with a column of this Python type on both databases."""
    if kind is int:
        return type(value) is int and -_INT64 <= value < _INT64
    if kind is str and type(value) is str and len(value) <= MAX_KEY_CHARS and "\x00" not in value:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate, which JSON can carry and no database stores
            return False
        return True
    return False


def decode_cursor(cursor: str, kinds: Sequence[type]) -> list[Any]:
    """The key values a cursor holds, one of each type in `kinds` (the paged columns' Python types)."""
    damaged = CursorError("this page link is damaged; go back to the first page")
    if len(cursor) > MAX_CURSOR_CHARS:
        raise damaged
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise damaged from exc
    if not isinstance(value, list) or len(value) != len(kinds) or not all(map(_fits, value, kinds)):
        raise damaged
    return value


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
    """Pass as `after` for the following page; None on the last page."""
    prev_cursor: str | None
    """Pass as `before` for the page before; None on the first page."""


def _beyond(keys: Sequence[ColumnElement[Any]], values: list[Any], forward: bool) -> ColumnElement[bool]:
    """Rows strictly after (forward) or before the key. Row-value comparison where both databases plan it as an
    index range; spelled out for one column."""
    if len(keys) == 1:
        return keys[0] > values[0] if forward else keys[0] < values[0]
    return tuple_(*keys) > tuple_(*values) if forward else tuple_(*keys) < tuple_(*values)


def keyset_page(
    conn: Connection,
    query: Select[Any],
    keys: Sequence[ColumnElement[Any]],
    row_key: Callable[[Any], Sequence[Any]],
    *,
    after: str | None = None,
    before: str | None = None,
    size: int = PAGE_SIZE,
    descending: bool = False,
) -> Page[Any]:
    """One page of `query` in `keys` order (ascending, or descending), starting after `after` or ending before
    `before`. `row_key(row)` gives a row's key values; `keys` must identify a row (end with a unique column)."""
    backwards = before is not None
    cursor = before if backwards else after
    forward_in_sql = backwards == descending  # which way the SQL walks the keys
    if cursor is not None:
        kinds = [key.type.python_type for key in keys]
        query = query.where(_beyond(keys, decode_cursor(cursor, kinds), forward_in_sql))
    order = [k.asc() if forward_in_sql else k.desc() for k in keys]
    rows = list(conn.execute(query.order_by(*order).limit(size + 1)))
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
    if not rows:
        return Page([], None, None)
    first, last = encode_cursor(row_key(rows[0])), encode_cursor(row_key(rows[-1]))
    if backwards:
        return Page(rows, last, first if more else None)
    return Page(rows, last if more else None, first if cursor is not None else None)
