"""Kiosk start-up and memory, measured the way a keeper starts it: `pocket-kiosk --demo` in a real terminal.

    .venv/bin/python bench/kiosk_bench.py [--runs 3] [--settle 10]

Each run starts the real command in a pseudo-terminal (80x24, then 160x48), in English and in Chinese
(`--lang en`, `--lang zh_CN`), times how long until the gate screen is drawn ("ready": the direction indicator
is on screen) and until the first verdict is shown, samples the resident set while the demo keeps scanning for a
few seconds, then presses `q` and times the exit. Beside it, in the same run: a bare Textual app (the floor any
Textual kiosk pays) and `pocket-kiosk --help` (the CLI without Textual). Targets (DESIGN.md): ready in at most
2 s, resident set at most 250 MB; Chinese (catalogs, CJK glyphs, Mandarin clips) at most 10% over English.
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
CHINESE_EXTRA = 0.10
"""Chinese may cost at most this much more than English, in start-to-ready time and in resident set."""
MARKERS = {"en": ("ENTERING", "Logged as entry"), "zh_CN": ("进入", "已记录，第")}
"""What each language's screen shows when the gate is ready (the direction indicator) and after a verdict."""
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
        (f"pocket-kiosk --demo {lang}, {w}x{h}", lang,
         [kiosk, "--demo", "--lang", lang, "--db", str(work / f"demo-{lang}.db")],
         MARKERS[lang][0].encode(), MARKERS[lang][1].encode(), b"q", (w, h))
        for w, h in ((80, 24), (160, 48)) for lang in ("en", "zh_CN")
    ]
    cases.append(("bare Textual app, 80x24", None, [sys.executable, "-c", BARE_APP], b"BARE-READY", None, b"\x11", (80, 24)))
    results: dict[tuple[str | None, tuple[int, int]], list[Run]] = {}
    print(f"{'case':<36} {'ready':>9} {'1st verdict':>12} {'RSS peak':>9} {'RSS end':>9} {'quit':>8}  exit")
    try:
        for name, lang, argv, ready, verdict, quit_key, size in cases:
            runs = [run_in_terminal(argv, ready, verdict, quit_key, size, args.settle, env) for _ in range(args.runs)]
            results[(lang, size)] = runs
            print(
                f"{name:<36} {fmt(median([r.ready_s for r in runs])):>9} {fmt(median([r.first_verdict_s for r in runs])):>12}"
                f" {fmt(max(r.rss_peak_mb for r in runs), 'MB'):>9} {fmt(median([r.rss_end_mb for r in runs]), 'MB'):>9}"
                f" {fmt(median([r.exit_s for r in runs])):>8}  {sorted({r.exit_code for r in runs})}"
            )
        started = time.perf_counter()
        subprocess.run([kiosk, "--help"], check=True, capture_output=True, env=env)
        print(f"{'pocket-kiosk --help (no UI)':<36} {fmt(time.perf_counter() - started):>9}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    for size in ((80, 24), (160, 48)):
        en, zh = results[("en", size)], results[("zh_CN", size)]
        ready_en, ready_zh = median([r.ready_s for r in en]), median([r.ready_s for r in zh])
        rss_en, rss_zh = max(r.rss_peak_mb for r in en), max(r.rss_peak_mb for r in zh)
        ready_extra = f"{ready_zh / ready_en - 1:+.1%}" if ready_en and ready_zh else "-"
        print(f"zh_CN vs en, {size[0]}x{size[1]}: ready {ready_extra}, RSS peak {rss_zh / rss_en - 1:+.1%}"
              f" (at most {CHINESE_EXTRA:+.0%} each)")
    print(f"targets: ready <= {READY_TARGET_S:.0f} s, resident set <= {RSS_TARGET_MB:.0f} MB (DESIGN.md)")


if __name__ == "__main__":
    main()
