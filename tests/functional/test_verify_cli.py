"""`pocket-kiosk verify` on a damaged log: every kind of damage (an entry edited, deleted, moved out of order, the
newest ones cut off, the file itself cut short) exits 1 and names what it found; an intact log exits 0."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from sync.core.chain import entry_hash
from kiosk.cli import main as kiosk_main
from sync.core.codes.base import Colour
from sync.core.policy import Decision, Direction, Verdict
from kiosk.store import EntryDraft, GateStore
from tests.conftest import GateFolder

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def _edit(conn: sqlite3.Connection) -> None:
    conn.execute("UPDATE entries SET verdict = 'pass' WHERE seq = 3")


def _edit_and_rehash(conn: sqlite3.Connection) -> None:
    """A forger who knows the hash: the edited entry matches again, the one after it no longer follows."""
    conn.row_factory = sqlite3.Row
    row = dict(conn.execute("SELECT * FROM entries WHERE seq = 3").fetchone()) | {"verdict": "pass"}
    conn.execute("UPDATE entries SET verdict = 'pass', hash = ? WHERE seq = 3", [entry_hash(row)])


def _delete(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM entries WHERE seq = 3")


def _reorder(conn: sqlite3.Connection) -> None:
    """Entries 2 and 3 swap places (their sequence numbers)."""
    conn.execute("UPDATE entries SET seq = -3 WHERE seq = 3")
    conn.execute("UPDATE entries SET seq = 3 WHERE seq = 2")
    conn.execute("UPDATE entries SET seq = 2 WHERE seq = -3")


def _truncate(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM entries WHERE seq >= 4")


def _empty(conn: sqlite3.Connection) -> None:
    conn.execute("DELETE FROM entries")


DAMAGE: dict[str, tuple[Callable[[sqlite3.Connection], None], list[str]]] = {
    "edited": (_edit, ["entry 3: edited: content does not match its hash"]),
    "edited, hash recomputed": (_edit_and_rehash, ["entry 4: broken: does not follow the entry before it"]),
    "deleted": (_delete, ["entry 4: gap: entries 3..3 are missing"]),
    "reordered": (_reorder, ["entry 2: broken: does not follow the entry before it", "entry 2: edited: content does not match its hash",
                             "entry 3: broken: does not follow the entry before it", "entry 3: edited: content does not match its hash",
                             "entry 4: broken: does not follow the entry before it"]),
    "truncated": (_truncate, ["entry 5: gap: the newest entries 4..5 are missing"]),
    "emptied": (_empty, ["entry 5: gap: the newest entries 1..5 are missing"]),
}  # fmt: skip


def _log(gate: GateFolder, count: int = 5) -> None:
    verdict = Verdict(Decision.REFUSE, ("red code",), Colour.RED)
    with GateStore(gate.db, gate.config.gate_id) as store:
        for i in range(count):
            store.record(EntryDraft(Direction.IN, "PGC1", verdict, f"{i:032x}", "Z* S*"), now=T0 + timedelta(minutes=i))


def verify(gate: GateFolder) -> tuple[int, str]:
    result = CliRunner().invoke(kiosk_main, ["verify", "--config", str(gate.config_file)])
    return result.exit_code, result.output


def test_an_intact_log_exits_0(gate: GateFolder) -> None:
    _log(gate)
    assert verify(gate) == (0, "chain intact: 5 entries\n")


@pytest.mark.parametrize("damage", DAMAGE)
def test_each_kind_of_damage_exits_1_and_says_where(gate: GateFolder, damage: str) -> None:
    _log(gate)
    change, found = DAMAGE[damage]
    with sqlite3.connect(gate.db) as conn:
        change(conn)

    code, output = verify(gate)

    assert code == 1
    assert output.splitlines() == found


def test_a_database_file_cut_short_exits_1_with_a_clear_error(gate: GateFolder) -> None:
    _log(gate, 200)  # more than one page of entries; the store's close leaves them all in the main file
    size = gate.db.stat().st_size
    os.truncate(gate.db, size // 2)

    code, output = verify(gate)

    assert code == 1
    assert output.startswith("Error: ") and "database" in output and "Traceback" not in output, output


def test_any_page_of_the_file_overwritten_exits_1(gate: GateFolder, tmp_path: Path) -> None:
    """Whichever page is damaged (entries, an index, the schema), it is found: by the chain, by the store's
    reading, or by SQLite's own check of the file."""
    _log(gate, 200)
    original = gate.db.read_bytes()
    page = int.from_bytes(original[16:18], "big")
    outcomes = {}
    for number in range(len(original) // page):
        damaged = original[: number * page] + b"\xff" * page + original[(number + 1) * page :]
        gate.db.write_bytes(damaged)
        outcomes[number + 1] = verify(gate)

    assert {number: code for number, (code, _) in outcomes.items()} == dict.fromkeys(outcomes, 1)
    assert all(output.startswith(("Error: ", "database file: ", "entry ")) for _, output in outcomes.values())
    findings = [line for _, output in outcomes.values() for line in output.splitlines() if line.startswith("database file: ")]
    assert findings and all(len(line) > len("database file: ") + 4 and not line.endswith("None") for line in findings)
