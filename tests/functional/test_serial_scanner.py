"""Serial QR scanners through a real pseudo-terminal pair (os.openpty) read by pyserial: codes, a scanner
unplugged and plugged back, bad input, and `pocket-kiosk scan --source serial:PATH` as a real process.

The gate opens a stable name (`ttyACM0`, a symlink as udev's /dev/serial/by-id/ names are) that the test points
at a new pseudo-terminal when the "scanner" is plugged back in.
"""

from __future__ import annotations

import json
import os
import queue
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from kiosk.serial_scanner import ScannerState, SerialScanner, serial_path
from tests.functional.test_ui_field import code_of, notes
from tests.functional.ui_support import (
    Kit,
    Recorder,
    entries,
    gate_config,
    kit,  # noqa: F401  (fixture)
    open_context,
    recorded_app,
    run,
    text_of,
    verdict_word,
    wait_for,
)

WAIT = 10.0
"""Most seconds any one thing may take to arrive."""


class FakeScanner:
    """A pseudo-terminal pair: the test writes to the master what a scanner would send; `device` (a symlink)
    names the other end for the gate. `unplug` closes both ends; `plug` makes a new pair behind the same name."""

    def __init__(self, folder: Path) -> None:
        self.device = folder / "ttyACM0"
        self.master = -1
        self.slave = -1
        self.plug()

    def plug(self) -> None:
        self.master, self.slave = os.openpty()
        staged = self.device.with_name("staged")
        staged.symlink_to(os.ttyname(self.slave))
        os.replace(staged, self.device)

    def unplug(self) -> None:
        os.close(self.master)
        os.close(self.slave)

    def send(self, data: bytes) -> None:
        os.write(self.master, data)


class Reader:
    """A SerialScanner run in a thread, as the kiosk runs it: codes and states land in queues."""

    def __init__(self, scanner: SerialScanner) -> None:
        self.codes: queue.Queue[str] = queue.Queue()
        self.states: queue.Queue[ScannerState] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(scanner,), daemon=True)

    def _run(self, scanner: SerialScanner) -> None:
        for code in scanner.codes(self._stop.is_set, self.states.put):
            self.codes.put(code)

    def state(self, wanted: str) -> ScannerState:
        """The next state of this kind (others, such as the repeated 'missing', are passed over), within WAIT."""
        deadline = time.monotonic() + WAIT
        while True:
            state = self.states.get(timeout=max(deadline - time.monotonic(), 0.001))
            if state.state == wanted:
                return state

    @contextmanager
    def running(self) -> Iterator[Reader]:
        self._thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            self._thread.join(WAIT)


def test_codes_are_read_line_by_line_and_the_scanner_is_found_again_after_an_unplug(tmp_path: Path) -> None:
    fake = FakeScanner(tmp_path)
    with Reader(SerialScanner(str(fake.device), reconnect_seconds=0.05)).running() as reader:
        reader.state("live")
        fake.send(b"PGC1:FIRST\r\nPGC1:SEC")
        fake.send(b"OND\r\n")
        assert [reader.codes.get(timeout=WAIT), reader.codes.get(timeout=WAIT)] == ["PGC1:FIRST", "PGC1:SECOND"]
        fake.unplug()
        assert "lost" in reader.state("lost").text
        assert str(fake.device) in reader.state("missing").text
        fake.plug()
        reader.state("live")
        fake.send(b"PGC1:AGAIN\n")
        assert reader.codes.get(timeout=WAIT) == "PGC1:AGAIN"
    fake.unplug()
    assert reader.codes.empty()


def test_a_flood_and_half_a_code_are_dropped_with_a_message_and_reading_goes_on(tmp_path: Path) -> None:
    fake = FakeScanner(tmp_path)
    scanner = SerialScanner(str(fake.device), reconnect_seconds=0.05, partial_seconds=0.3, max_chars=100)
    with Reader(scanner).running() as reader:
        reader.state("live")
        fake.send(b"X" * 500 + b"\r\n")
        assert "500 characters without a stop" in reader.state("dropped").text
        fake.send(b"PGC1:HALF")  # and nothing more: the scanner stopped
        assert "part of a code (9 characters" in reader.state("dropped").text
        fake.send(b"PGC1:WHOLE\r")
        assert reader.codes.get(timeout=WAIT) == "PGC1:WHOLE"
    fake.unplug()
    assert reader.codes.empty()


def test_serial_sources_are_named_serial_and_a_path() -> None:
    assert serial_path("serial:/dev/ttyACM0") == "/dev/ttyACM0"
    assert serial_path("serial:") is None and serial_path("0") is None and serial_path(None) is None


@pytest.mark.timeout(120)
def test_scan_command_judges_and_logs_a_serial_scanners_codes_until_interrupted(tmp_path: Path, kit: Kit) -> None:
    fake = FakeScanner(tmp_path)
    config = gate_config(tmp_path, kit, tmp_path / "no-camera")
    config_file = tmp_path / "kiosk.toml"
    config_file.write_text(
        "\n".join(f'{key} = "{value}"' for key, value in config.model_dump(include={
            "gate_id", "database", "trust_dir", "district_key_file", "policy_file"}).items()) + "\n",
        encoding="utf-8",
    )
    command = [str(Path(sys.executable).with_name("pocket-kiosk")), "scan", "--source", f"serial:{fake.device}", "--json",
               "--config", str(config_file)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        assert "QR scanner" in read_line(process.stderr)
        fake.send(code_of(kit, "01").encode() + b"\r\n")
        record = json.loads(read_line(process.stdout))
        assert (record["verdict"], record["source"]) == ("pass", "scanner")
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=WAIT)
        fake.unplug()
    assert process.returncode == 0, err
    assert "1 entry logged" in err.decode()
    assert [(r["verdict"], json.loads(r["details"])) for r in entries(config)] == [("pass", {"source": "scanner"})]


def read_line(stream: object) -> str:
    """One line from a child's pipe, waiting at most WAIT seconds for it."""
    assert hasattr(stream, "readline") and hasattr(stream, "fileno")
    ready, _, _ = select.select([stream], [], [], WAIT)
    assert ready, "nothing came from the scan command"
    return stream.readline().decode()


def test_the_kiosk_judges_a_serial_scanners_code_as_a_scan_and_says_when_it_is_unplugged(
    tmp_path: Path, kit: Kit
) -> None:
    fake = FakeScanner(tmp_path)
    config = gate_config(tmp_path, kit, tmp_path / "no-camera", scanner=f"serial:{fake.device}")
    context = open_context(config)

    async def scenario() -> None:
        async with recorded_app(context, Recorder()).run_test() as pilot:
            await wait_for(pilot, lambda: "QR scanner: " in notes(pilot))
            fake.send(code_of(kit, "01").encode() + b"\r\n")
            await wait_for(pilot, lambda: verdict_word(pilot) == "PASS")
            assert "read by the QR scanner" in text_of(pilot, "#verdict-note")
            fake.unplug()
            await wait_for(pilot, lambda: "QR scanner lost" in notes(pilot))

    run(scenario, context)
    assert [(r["verdict"], json.loads(r["details"])) for r in entries(config)] == [("pass", {"source": "scanner"})]
