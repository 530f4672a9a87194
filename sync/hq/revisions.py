"""Bundle versions: every change to what gates receive takes the next number of one counter.

A change to district-wide lists (red/yellow list, policy, trust, passes for every gate) stamps scope
'district'; a change to one gate's roster or passes stamps 'gate:<id>'. A gate's bundle version is the larger
of its two stamps, so it grows with every change that reaches that gate and with no other.
"""

from __future__ import annotations

from sqlalchemy import Connection, func, insert, select, update

from sync.hq.tables import revisions

COUNTER = "counter"
DISTRICT = "district"


def gate_scope(gate_id: str) -> str:
    return f"gate:{gate_id}"


def bump(conn: Connection, scope: str) -> int:
    """Take the next counter value and stamp `scope` with it (inside the caller's transaction)."""
    value = conn.execute(
        update(revisions).where(revisions.c.scope == COUNTER).values(value=revisions.c.value + 1).returning(revisions.c.value)
    ).scalar_one()
    stamp(conn, scope, value)
    return int(value)


def list_scope(name: str) -> str:
    """A scope that only records when one list last changed ('colour-list', 'roster:<gate>'), so a preview
    of an upload can tell whether the list it was compared with is still the one in force."""
    return f"list:{name}"


def stamp(conn: Connection, scope: str, value: int) -> None:
    """Record `value` (taken by `bump`) for another scope too."""
    if conn.execute(update(revisions).where(revisions.c.scope == scope).values(value=value)).rowcount == 0:
        conn.execute(insert(revisions).values(scope=scope, value=value))


def stamp_of(conn: Connection, scope: str) -> int:
    return int(conn.execute(select(revisions.c.value).where(revisions.c.scope == scope)).scalar() or 0)


def bundle_version(conn: Connection, gate_id: str) -> int:
    value = conn.execute(
        select(func.max(revisions.c.value)).where(revisions.c.scope.in_([DISTRICT, gate_scope(gate_id)]))
    ).scalar()
    return int(value or 0)
