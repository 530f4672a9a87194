"""Kiosk start-up and memory, measured the way a keeper starts it: `pocket-kiosk --demo` in a real terminal.

    .venv/bin/python bench/kiosk_bench.py [--runs 3] [--settle 10]

Each run starts the real command in a pseudo-terminal (80x24, then 160x48), times how long until the gate
screen is drawn ("ready": the direction indicator is on screen) and until the first verdict is shown, samples
the resident set while the demo keeps scanning for a few seconds, then presses `q` and times the exit. Beside
it, in the same run: a bare Textual app (the floor any Textual kiosk pays) and `pocket-kiosk --help` (the
CLI without Textual). Targets (DESIGN.md): ready in at most 2 s, resident set at most 250 MB.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import select
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import time
from dataclasses import dataclass
from pathlib import Path

VENV_BIN = Path(sys.executable).parent
READY_TARGET_S = 2.0
RSS_TARGET_MB = 250.0
BARE_APP = """
from textual.app import App
from textual.widgets import Footer, Static

class Bare(App):
    def compose(self):
        yield Static("BARE-READY")
        yield Footer()

Bare().run()
"""


@dataclass
class Run:
    ready_s: float | None
    first_verdict_s: float | None
    rss_peak_mb: float
    rss_end_mb: float
    exit_s: float | None
    exit_code: int | None


def rss_mb(pid: int) -> float:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0
    for line in status.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_in_terminal(
    argv: list[str], ready: bytes, verdict: bytes | None, quit_key: bytes, size: tuple[int, int], settle: float, env: dict[str, str]
) -> Run:
    """Start `argv` on a pseudo-terminal of `size`, keep reading its screen output, measure, then quit it."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", size[1], size[0], 0, 0))
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True)
    os.close(slave)
    tail = b""
    ready_s = verdict_s = None
    peak = end = 0.0
    next_sample = 0.0
    limit = started + 30 + settle
    try:
        while time.perf_counter() < limit:
            readable, _, _ = select.select([master], [], [], 0.05)
            if readable:
                try:
                    chunk = os.read(master, 65536)
                except OSError:
                    break
                tail = (tail + chunk)[-200_000:]
            now = time.perf_counter()
            if ready_s is None and ready in tail:
                ready_s = now - started
            if verdict is not None and verdict_s is None and verdict in tail:
                verdict_s = now - started
            if now >= next_sample:
                end = rss_mb(proc.pid)
                peak = max(peak, end)
                next_sample = now + 0.25
            if ready_s is not None and (verdict is None or verdict_s is not None) and now - started > ready_s + settle:
                break
        os.write(master, quit_key)
        quit_at = time.perf_counter()
        while proc.poll() is None and time.perf_counter() - quit_at < 10:
            readable, _, _ = select.select([master], [], [], 0.05)
            if readable:
                try:
                    os.read(master, 65536)
                except OSError:
                    pass
        exit_s = time.perf_counter() - quit_at if proc.poll() is not None else None
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
    return Run(ready_s, verdict_s, peak, end, exit_s, proc.returncode)


def fmt(value: float | None, unit: str = "s") -> str:
    return "-" if value is None else f"{value:.2f} {unit}" if unit == "s" else f"{value:.0f} {unit}"


def median(values: list[float | None]) -> float | None:
    real = [v for v in values if v is not None]
    return statistics.median(real) if real else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="Runs per case (the median is printed).")
    parser.add_argument("--settle", type=float, default=10.0, help="Seconds the demo keeps scanning after ready.")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="kiosk-bench-"))
    env = os.environ | {"TERM": "xterm-256color", "HOME": str(work), "XDG_DATA_HOME": str(work / "data")}
    kiosk = str(VENV_BIN / "pocket-kiosk")
    cases = [
        ("pocket-kiosk --demo, 80x24", [kiosk, "--demo", "--db", str(work / "demo.db")], b"ENTERING", b"Logged as entry", b"q", (80, 24)),
        ("pocket-kiosk --demo, 160x48", [kiosk, "--demo", "--db", str(work / "demo.db")], b"ENTERING", b"Logged as entry", b"q", (160, 48)),
        ("bare Textual app, 80x24", [sys.executable, "-c", BARE_APP], b"BARE-READY", None, b"\x11", (80, 24)),
    ]
    print(f"{'case':<30} {'ready':>9} {'1st verdict':>12} {'RSS peak':>9} {'RSS end':>9} {'quit':>8}  exit")
    try:
        for name, argv, ready, verdict, quit_key, size in cases:
            runs = [run_in_terminal(argv, ready, verdict, quit_key, size, args.settle, env) for _ in range(args.runs)]
            print(
                f"{name:<30} {fmt(median([r.ready_s for r in runs])):>9} {fmt(median([r.first_verdict_s for r in runs])):>12}"
                f" {fmt(max(r.rss_peak_mb for r in runs), 'MB'):>9} {fmt(median([r.rss_end_mb for r in runs]), 'MB'):>9}"
                f" {fmt(median([r.exit_s for r in runs])):>8}  {sorted({r.exit_code for r in runs})}"
            )
        started = time.perf_counter()
        subprocess.run([kiosk, "--help"], check=True, capture_output=True, env=env)
        print(f"{'pocket-kiosk --help (no UI)':<30} {fmt(time.perf_counter() - started):>9}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"targets: ready <= {READY_TARGET_S:.0f} s, resident set <= {RSS_TARGET_MB:.0f} MB (DESIGN.md)")


if __name__ == "__main__":
    main()
