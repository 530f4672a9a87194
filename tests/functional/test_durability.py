"""Crash safety: a process writing entries is killed with SIGKILL at random moments, again and again; every
entry it reported as committed is still there, intact, and the chain still verifies."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
from pathlib import Path

from kiosk.store import GateStore

WRITER = r"""
import sys
from pathlib import Path
from sync.core.codes import Colour
from sync.core.policy import Decision, Direction, Verdict
from kiosk.store import EntryDraft, GateStore

store = GateStore(Path(sys.argv[1]), "north")
verdict = Verdict(Decision.PASS, ("green code", "resident"), Colour.GREEN)
print("ready", flush=True)
n = 0
while True:
    n += 1
    entry = store.record(EntryDraft(direction=Direction.IN, code_type="PGC1", verdict=verdict, subject=f"{n:032x}"))
    print(entry.id, entry.row["hash"], flush=True)
"""

ROUNDS = 25


def _report(line: str, reported: dict[str, str]) -> None:
    parts = line.split()
    if len(parts) == 2 and len(parts[0]) == 26 and len(parts[1]) == 64:  # a line cut short is no report
        reported[parts[0]] = parts[1]


def test_every_reported_entry_survives_sigkill(tmp_path: Path) -> None:
    """Each round kills the writer once it has reported a random number of entries (0 to 40): it is then in
    the middle of writing the next one, wherever that happens to be, however fast or slow the machine is."""
    db = tmp_path / "gate.db"
    rng = random.Random(20261123)
    reported: dict[str, str] = {}
    for _ in range(ROUNDS):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True, bufsize=1
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        for _ in range(rng.randint(0, 40)):
            _report(proc.stdout.readline(), reported)
        proc.send_signal(signal.SIGKILL)
        output, _ = proc.communicate(timeout=60)
        for line in output.splitlines():
            _report(line, reported)
    assert len(reported) > ROUNDS, "the writer should have committed entries in most rounds"
    with GateStore(db, "north") as store:
        stored = {row["id"]: row["hash"] for row in store.entries()}
        assert store.verify() == []
    missing = [entry_id for entry_id in reported if entry_id not in stored]
    assert missing == []
    assert all(stored[entry_id] == digest for entry_id, digest in reported.items())
