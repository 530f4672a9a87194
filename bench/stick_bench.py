"""Sneakernet benchmark: prints figures, asserts nothing.

A gate offline for a week carries N entries (default 100,000, the busiest gate's week in shared/DESIGN.md) to HQ on
a stick: seconds to write the export at the gate (`kiosk.uplink.stick.sync_by_stick`), its size, seconds for HQ to
take it in (`sync.hq.stick_import.import_stick`, SQLite), seconds for the same file again (all duplicates), and
seconds for the gate to read HQ's receipt and bundle from the stick. No network: the gate's token and HQ's pinned
key are written as enrolment writes them.

    .venv/bin/python bench/stick_bench.py [--entries 100000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from kiosk.config import KioskConfig
from kiosk.store import EntryDraft, GateStore
from kiosk.uplink.stick import sync_by_stick
from sync.core.bundle import create_signing_key, public_pem
from sync.core.codes.base import Colour
from sync.core.policy import Decision, Direction, Verdict
from sync.hq.db import HqDatabase
from sync.hq.gates import add_gate
from sync.hq.stick_import import import_stick


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000)
    count = parser.parse_args().entries
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        key = create_signing_key(folder / "hq-signing.key.pem")
        hq = HqDatabase(str(folder / "hq.db"))
        hq.upgrade()
        token = add_gate(hq, "north-gate")
        (folder / "hq.token").write_text(token)
        (folder / "hq-key.pub.pem").write_text(public_pem(key))
        config = KioskConfig(gate_id="north-gate", database=folder / "gate.db", hq_url="http://127.0.0.1:9",
                             hq_token_file=folder / "hq.token", hq_key_file=folder / "hq-key.pub.pem")
        verdict = Verdict(Decision.PASS, ("green code", "resident"), Colour.GREEN)
        with GateStore(config.database, config.gate_id) as store:
            for i in range(count):
                store.record(EntryDraft(direction=Direction.IN, code_type="PGC1", verdict=verdict, subject=f"{i:032x}",
                                        name="Z**** S**", temperature=36.5, operator="keeper-1", details={"n": str(i)}))
        stick = folder / "stick"
        stick.mkdir()
        began = time.perf_counter()
        visit = sync_by_stick(config, stick)
        exported = time.perf_counter() - began
        size = visit.export.stat().st_size
        began = time.perf_counter()
        done = import_stick(hq, key, visit.export)
        imported = time.perf_counter() - began
        began = time.perf_counter()
        again = import_stick(hq, key, visit.export)
        replayed = time.perf_counter() - began
        began = time.perf_counter()
        back = sync_by_stick(config, stick)
        returned = time.perf_counter() - began
        hq.dispose()
    print(f"stick sync of {count:,} entries (SQLite HQ)")
    print(f"  gate export      {exported:6.1f} s  {size / 1e6:.1f} MB, {visit.exported:,} entries")
    print(f"  HQ import        {imported:6.1f} s  {done.stored:,} stored, {count / imported:,.0f} entries/s")
    print(f"  HQ import again  {replayed:6.1f} s  {again.stored:,} stored, {again.duplicates:,} already held")
    print(f"  gate takes back  {returned:6.1f} s  cursor #{back.cursor:,}, {back.acknowledged:,} acknowledged")


if __name__ == "__main__":
    main()
