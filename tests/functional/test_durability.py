"""Crash safety: a process writing entries is killed with SIGKILL at random moments, again and again; every
entry it reported as committed is still there, intact, and the chain still verifies."""

from __future__ import annotations

import random
import signal
import subprocess
import sys
import time
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


def test_every_reported_entry_survives_sigkill(tmp_path: Path) -> None:
    db = tmp_path / "gate.db"
    rng = random.Random(20261123)
    reported: dict[str, str] = {}
    deadline = time.monotonic() + 120
    for _ in range(ROUNDS):
        assert time.monotonic() < deadline, "durability rounds took too long"
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(db)], stdout=subprocess.PIPE, text=True, bufsize=1
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.005, 0.25))
        proc.send_signal(signal.SIGKILL)
        output, _ = proc.communicate(timeout=10)
        for line in output.splitlines():
            parts = line.split()
            if len(parts) == 2 and len(parts[0]) == 26 and len(parts[1]) == 64:  # a line cut short is no report
                reported[parts[0]] = parts[1]
    assert len(reported) > ROUNDS, "the writer should have committed entries in most rounds"
    with GateStore(db, "north") as store:
        stored = {row["id"]: row["hash"] for row in store.entries()}
        assert store.verify() == []
    missing = [entry_id for entry_id in reported if entry_id not in stored]
    assert missing == []
    assert all(stored[entry_id] == digest for entry_id, digest in reported.items())
