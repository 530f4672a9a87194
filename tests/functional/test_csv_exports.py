"""The gate's CSV export and HQ's tracing downloads clean hostile cells the same way: entries with control,
bidi and formula characters in their name, keeper id and reasons go from a real gate store through the real
sync to a real HQ (SQLite and PostgreSQL), and both exports of them are read back as a spreadsheet would."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.dash_testkit import Staff, make_user
from tests.sync_testkit import (  # noqa: F401 - fixtures
    MakeGate,
    hq_db_url,
    make_gate,
    signing_key_file,
    start_hq,
)

from kiosk.export import export_entries
from kiosk.policy import Decision, Direction, Verdict
from kiosk.store import EntryDraft

HOSTILE = [
    # (name as masked from a scanned code, keeper id, reason)
    ("\u202e*** \x1b]0;x\x07***", " =HYPERLINK(\"http://x\")", "\x1b[31mred\x1b[0m"),
    ("\x07B**", "\u00a0+SUM(A1)", " -2+3"),
    ("Z**** S**", "keeper-1", "@cmd"),
]
CLEANED = [
    ("\\u202e*** \\x1b]0;x\\x07***", "' =HYPERLINK(\"http://x\")", "\\x1b[31mred\\x1b[0m"),
    ("\\x07B**", "'\u00a0+SUM(A1)", "' -2+3"),
    ("Z**** S**", "keeper-1", "'@cmd"),
]


def _rows(data: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.removeprefix("\ufeff"))))


def test_both_exports_escape_control_and_bidi_characters_and_defuse_formulas(
    make_gate: MakeGate, hq_db_url: str, signing_key_file: Path, tmp_path: Path
) -> None:
    start = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=30)
    for running in start_hq(hq_db_url, signing_key_file, timezone="UTC"):
        gate = make_gate(running, "north-gate")
        with gate.store() as store:
            for minute, (name, keeper, reason) in enumerate(HOSTILE, start=1):
                verdict = Verdict(Decision.REFUSE, (reason,), None)
                draft = EntryDraft(Direction.IN, "PGC1", verdict, name=name, operator=keeper, temperature=36.6)
                store.record(draft, now=start + timedelta(minutes=minute))
        assert gate.sync().entries_waiting == 0
        make_user(running.db, "vera")
        staff = Staff(running.url, "vera")
        window = {"from": f"{start:%Y-%m-%dT%H:%M}", "to": f"{start + timedelta(hours=1):%Y-%m-%dT%H:%M}"}
        answer = staff.get("/trace/gate.csv", gate="north-gate", **window)
        staff.close()

    assert answer.status_code == 200, answer.text
    hq_rows = _rows(answer.text)
    out = tmp_path / "entries.csv"
    assert export_entries(gate.config.database, start, start + timedelta(hours=1), out) == 3
    gate_rows = _rows(out.read_text(encoding="utf-8-sig"))
    assert [(r["name"], r["keeper"], r["reasons"]) for r in hq_rows] == CLEANED
    assert [(r["name"], r["operator"], r["reasons"]) for r in gate_rows] == CLEANED
    assert {r["temperature"] for r in hq_rows} == {r["temperature"] for r in gate_rows} == {"36.6"}
    raw = answer.text + out.read_text(encoding="utf-8-sig")
    assert not any(ch in raw for ch in "\x1b\x07\u202e"), "a raw control or bidi character reached a CSV file"
