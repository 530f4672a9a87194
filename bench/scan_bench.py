"""Scan benchmark: our Scanner against zbar, zxing-cpp and OpenCV on hard frames, on photo frames of the kinds real
phone photos are hard in (issue 18: sun glare, damage, curved codes, dot-styled modules, small steep codes, blur with
dim light and heavy JPEG) and on frames with no code, then scan-to-verdict latency.

    .venv/bin/python bench/scan_bench.py            # 420 hard + 240 photo frames, about 5 minutes on 2 cores
    .venv/bin/python bench/scan_bench.py --quick    # 140 + 72 frames, for a quick look
    .venv/bin/python bench/scan_bench.py --seed 5   # another set of frames and codes

Codes are issued through the real path (`issue_code` with an Ed25519 issuer key, written and read back in the
layout `pocket-hq keys init` makes; QR images rendered by segno as `pocket-hq issue --png` renders them), one
distinct code per frame. The issuer key, the district key, the issue time and the frames all derive from the
seed, so a seed repeats its run exactly: the same QR patterns, the same frames, the same read rates (only the
times move with the machine's load). Every decoder sees the same BGR frame and is timed from frame in to texts
out (grey conversion included); a read counts only when it yields the frame's own text. Then every decoder is
timed on 1280x720 frames with no code, what a gate camera delivers most of the day. The last part times what a
keeper waits for at 1280x720: frame in -> Scanner.scan -> Debouncer -> Gate.present_code (verify, judge, commit
to a GateStore on a real file with WAL and synchronous=FULL) -> verdict committed. Every frame shows a different
code, so every read frame commits.

Targets (shared/DESIGN.md, issues 2 and 18) are printed next to the figures; nothing here asserts them.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from hard_frames import (
    CATEGORIES,
    PHOTO_KINDS,
    PHOTO_VARIANTS,
    RESOLUTIONS,
    HardFrame,
    decode_jpeg,
    frame_plan,
    generate,
    generate_photos,
    make_busy_empty_frame,
    make_empty_frame,
)

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from kiosk.codes import Colour, TrustList
from kiosk.codes.keys import DISTRICT_KEY_FILE, PRIVATE_KEY_FILE, TRUST_SUBDIR, load_issuer_key
from kiosk.codes.pgc import issue_code
from kiosk.codes.trust import PUBLIC_KEY_SUFFIX, key_id
from kiosk.gate import Gate
from kiosk.identity import load_district_key, mask_name, resident_id_check_digit, subject_hash
from kiosk.policy import Direction, load_policy
from kiosk.decoders import OpenCVDecoder, ZbarDecoder, ZxingDecoder, to_gray
from kiosk.scanner import Debouncer, Scanner
from kiosk.store import GateStore

REPO = Path(__file__).resolve().parent.parent
HD = (1280, 720)
TARGET_READ_AIM = 0.90
TARGET_DECODE_MEDIAN_MS = 10.0
TARGET_VERDICT_MEDIAN_MS = 50.0
TARGET_VERDICT_P99_MS = 150.0
TARGET_IDLE_MEDIAN_MS = 6.7
"""A camera delivers frames with no code most of the day, and at 15-30 frames a second on a 2-core laptop 10 ms each
is a third of a core, so the aim is well under that: issue 18 holds it at no more than before its changes, 6.7 ms
measured then in a bare room."""
OURS = "Scanner (ours)"
DecodeFn = Callable[[np.ndarray], list[str]]


@dataclass
class Tally:
    """One decoder's results on a group of frames."""

    reads: int = 0
    wrong: int = 0
    """Frames where it returned a text that is not the frame's code (a misread; QR error correction makes this rare)."""
    times_ms: list[float] = field(default_factory=list)

    def add(self, ok: bool, wrong: bool, ms: float) -> None:
        self.reads += ok
        self.wrong += wrong
        self.times_ms.append(ms)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def resident_id(serial: int) -> str:
    """A well-formed 18-character resident ID, different for every serial (the area code carries the thousands)."""
    first17 = f"{110101 + serial // 1000:06d}19900101{serial % 1000:03d}"
    return first17 + resident_id_check_digit(first17)


ISSUED_AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
"""Every bench code is issued at this fixed moment (and judged an hour later), so its text, and with it its QR
pattern, depends only on the seed: a signed time taken from the clock would change the QR on every run."""
JUDGED_AT = ISSUED_AT + timedelta(hours=1)


@dataclass(frozen=True)
class Issued:
    keys: Path
    texts: list[str]
    subjects: list[str]
    district_key: bytes


def seeded_bytes(seed: int, purpose: str) -> bytes:
    """32 bytes that depend only on the seed and what they are for."""
    return hashlib.sha256(f"pocket-gate scan bench {purpose} {seed}".encode()).digest()


def create_seeded_keys(folder: Path, seed: int) -> None:
    """An issuer key pair and a district key made from the seed, written in the layout of `pocket-hq keys init`.

    Ed25519 signatures are deterministic, so the same seed signs the same claims into the same code text: runs
    with one seed show the same QR patterns and give the same read rates (a fresh random key each run moved the
    Scanner's rate by a frame or two, 89.8-90.2% on seed 2026)."""
    private_key = ed25519.Ed25519PrivateKey.from_private_bytes(seeded_bytes(seed, "issuer key"))
    (folder / TRUST_SUBDIR).mkdir(parents=True)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (folder / PRIVATE_KEY_FILE).write_bytes(pem)
    public = private_key.public_key()
    public_pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    (folder / TRUST_SUBDIR / f"{key_id(public).hex()}{PUBLIC_KEY_SUFFIX}").write_bytes(public_pem)
    (folder / DISTRICT_KEY_FILE).write_text(seeded_bytes(seed, "district key").hex() + "\n")


def issue_codes(folder: Path, count: int, seed: int) -> Issued:
    """`count` distinct green codes, signed as HQ signs them (`pocket-hq issue` without the CLI around it)."""
    create_seeded_keys(folder, seed)
    key = load_issuer_key(folder)
    district_key = load_district_key(folder / DISTRICT_KEY_FILE)
    names = ("Zhang San", "Li Si", "Wang Wu", "Zhao Liu", "Chen Qi", "Liu Ba", "Huang Jiu", "Zhou Shi")
    texts, subjects = [], []
    for serial in range(count):
        subject = subject_hash(district_key, resident_id(serial))
        texts.append(
            issue_code(
                key,
                issuer="district-hq",
                subject=subject,
                name=mask_name(names[serial % len(names)]),
                colour=Colour.GREEN,
                issued_at=ISSUED_AT,
                expires_at=ISSUED_AT + timedelta(hours=24),
                negative_test_at=ISSUED_AT - timedelta(hours=20),
            )
        )
        subjects.append(subject)
    return Issued(folder, texts, subjects, district_key)


# -- part 1: decode rate and time, side by side -------------------------------------------------------------


@dataclass
class DecodeRun:
    tallies: dict[tuple[str, str], Tally]
    """(group, decoder) -> tally; groups are the categories (and 'kind/variant' for photo frames), 'WxH' sizes and
    'overall'."""
    passes: Counter[str]
    """Which of the Scanner's passes read each frame it read."""
    zbar_only: int
    """Frames pyzbar read over the whole frame and the Scanner did not."""
    hd_jpegs: list[bytes]
    """The 1280x720 frames as the camera sent them (JPEG), kept for the scan-to-verdict part."""


def decoders(scanner: Scanner, last_pass: dict[str, str]) -> dict[str, DecodeFn]:
    zbar, zxing, opencv = ZbarDecoder(), ZxingDecoder(), OpenCVDecoder()

    def ours(frame: np.ndarray) -> list[str]:
        result = scanner.scan(frame)
        last_pass["name"] = result.decoder
        return result.texts

    return {
        "pyzbar": lambda frame: zbar.decode(to_gray(frame)),
        OURS: ours,
        "zxing-cpp": lambda frame: zxing.decode(to_gray(frame)),
        "OpenCV": lambda frame: opencv.decode(to_gray(frame)),
    }


def frame_groups(frame: HardFrame) -> tuple[str, ...]:
    """The table rows a frame counts in: its category (and variant), its size, overall."""
    size = f"{frame.size[0]}x{frame.size[1]}"
    if frame.variant and len(PHOTO_VARIANTS[frame.category]) > 1:
        return frame.category, f"{frame.category}/{frame.variant}", size, "overall"
    return frame.category, size, "overall"


def run_decoders(frames: Iterable[HardFrame], count: int) -> DecodeRun:
    last_pass: dict[str, str] = {}
    fns = decoders(Scanner(), last_pass)
    names = list(fns)
    tallies: dict[tuple[str, str], Tally] = {}
    passes: Counter[str] = Counter()
    zbar_only = 0
    hd_jpegs: list[bytes] = []
    started = time.monotonic()
    for frame in frames:
        if frame.index == 0:
            for fn in decoders(Scanner(), {}).values():  # warm-up, untimed and apart: first calls allocate buffers
                fn(frame.image)
        read: dict[str, bool] = {}
        # Rotate the order each frame so a burst of load from elsewhere falls on every decoder alike.
        for name in names[frame.index % len(names) :] + names[: frame.index % len(names)]:
            t0 = time.perf_counter()
            found = fns[name](frame.image)
            ms = (time.perf_counter() - t0) * 1000
            read[name] = frame.text in found
            wrong = any(text != frame.text for text in found)
            for group in frame_groups(frame):
                tallies.setdefault((group, name), Tally()).add(read[name], wrong, ms)
        if read[OURS]:
            passes[last_pass["name"]] += 1
        zbar_only += read["pyzbar"] and not read[OURS]
        if frame.size == HD:
            hd_jpegs.append(frame.jpeg)
        if (frame.index + 1) % 50 == 0:
            print(f"  {frame.index + 1}/{count} frames decoded ({time.monotonic() - started:.0f} s)", file=sys.stderr)
    return DecodeRun(tallies, passes, zbar_only, hd_jpegs)


def table_groups(photos: bool) -> list[str]:
    """The rows of a decode table, in order ('-' draws a rule)."""
    sizes = [f"{w}x{h}" for w, h in RESOLUTIONS]
    if not photos:
        return [*CATEGORIES, "-", *sizes, "overall"]
    rows: list[str] = []
    for kind in PHOTO_KINDS:
        rows.append(kind)
        if len(PHOTO_VARIANTS[kind]) > 1:
            rows += [f"{kind}/{variant}" for variant in PHOTO_VARIANTS[kind]]
    return [*rows, "-", *sizes, "overall"]


def print_decode_table(run: DecodeRun, count: int, seed: int, *, photos: bool = False) -> None:
    names = ["pyzbar", OURS, "zxing-cpp", "OpenCV"]
    if photos:
        print(f"\nPHOTO FRAMES: {count} frames, seed {seed}, kinds cycled, half 640x480 and half 1280x720;")
        print("each kind's variants below it ('damaged/cracks').")
    else:
        print(f"\nHARD FRAMES: {count} frames, seed {seed}, categories cycled, half 640x480 and half 1280x720.")
    print("Per decoder: share of frames read with the right text, then median and p99 ms per frame (frame in ->")
    print("texts out, grey conversion included). Our Scanner's time includes its repairs on frames the first pass")
    print("misses. In a group of a few dozen frames, p99 is close to the slowest frame.\n")
    head = f"{'':22}{'n':>4} " + "".join(f"| {n:^22}" for n in names)
    sub = f"{'group':22}{'':>4} " + "".join(f"| {'read':>6} {'med':>6} {'p99':>7} " for _ in names)
    print(head)
    print(sub)
    print("-" * len(sub))
    for group in table_groups(photos):
        if group == "-":
            print("-" * len(sub))
            continue
        n = len(run.tallies[(group, names[0])].times_ms)
        cells = ""
        for name in names:
            t = run.tallies[(group, name)]
            cells += f"| {t.reads / n:6.0%} {percentile(t.times_ms, 50):6.1f} {percentile(t.times_ms, 99):7.1f} "
        print(f"{group:22}{n:>4} {cells}")
    overall = run.tallies[("overall", OURS)]
    print(
        f"\nScanner reads by pass ({overall.reads} frames):", ", ".join(f"{p} {c}" for p, c in run.passes.most_common())
    )
    print(
        f"pyzbar over the whole frame would add {run.zbar_only} read(s) (frames pyzbar read and the Scanner missed;"
        " the Scanner runs it only on crops around a located code)."
    )
    wrong = {name: run.tallies[("overall", name)].wrong for name in names}
    print("Frames with a wrong text:", ", ".join(f"{n} {w}" for n, w in wrong.items()))


@dataclass
class IdleRun:
    """Every decoder on 1280x720 frames with no code in them, by scene."""

    frames: int
    times_ms: dict[tuple[str, str], list[float]]
    """(scene, decoder) -> ms per frame."""
    passes: dict[str, Counter[str]]
    """Scene -> the Scanner's passes over its frames, by kind ('first', 'search', 'probe', 'repair', ...)."""
    misreads: int = 0


IDLE_SCENES: dict[str, Callable[[int, int], np.ndarray]] = {
    "bare room": lambda index, seed: make_empty_frame(index, seed, HD),
    "print in view": lambda index, seed: make_busy_empty_frame(index, seed, HD),
    "print held still": lambda index, seed: make_busy_empty_frame(0, seed, HD),
}
"""What an idle gate camera sees: mostly a bare room; sometimes a sheet of print, busy enough to set off the
Scanner's texture probes, either a different sheet in every frame (the worst case) or one left in view."""


def time_empty_frames(seed: int, count: int) -> IdleRun:
    """What an idle gate pays per frame, for every decoder, in each scene of IDLE_SCENES."""
    run = IdleRun(count, {}, {})
    for scene, make in IDLE_SCENES.items():
        frames = [make(index, seed) for index in range(count)]
        for fn in decoders(Scanner(), {}).values():  # warm-up, untimed and apart
            fn(frames[0])
        scanner = Scanner()
        fns = decoders(scanner, {})
        names = list(fns)
        for index, frame in enumerate(frames):
            for name in names[index % len(names) :] + names[: index % len(names)]:
                t0 = time.perf_counter()
                found = fns[name](frame)
                run.times_ms.setdefault((scene, name), []).append((time.perf_counter() - t0) * 1000)
                run.misreads += bool(found)
        run.passes[scene] = scanner.passes
    return run


def print_idle(run: IdleRun) -> None:
    names = ["pyzbar", OURS, "zxing-cpp", "OpenCV"]
    print(f"\nNO CODE IN VIEW at {HD[0]}x{HD[1]}: {run.frames} frames per scene, ms per frame (median, p99).")
    print(f"{'scene':20}" + "".join(f"| {n:^16}" for n in names))
    for scene in IDLE_SCENES:
        cells = ""
        for name in names:
            times = run.times_ms[(scene, name)]
            cells += f"| {percentile(times, 50):7.1f} {percentile(times, 99):7.1f} "
        print(f"{scene:20}{cells}")
    for scene, passes in run.passes.items():
        per_frame = ", ".join(f"{kind} {count / run.frames:.2f}" for kind, count in sorted(passes.items()))
        print(f"Scanner passes per frame, {scene}: {per_frame}")
    if run.misreads:
        print(f"  warning: {run.misreads} text(s) read in frames with no code")


# -- part 2: scan to verdict --------------------------------------------------------------------------------


@dataclass
class VerdictRun:
    total_ms: list[float]
    scan_ms: list[float]
    gate_ms: list[float]
    frames: int
    committed: int
    entries_in_db: int
    chain_problems: int
    decisions: Counter[str]
    pragmas: str
    roster: int = 0


def scan_to_verdict(issued: Issued, jpegs: list[bytes], work_dir: Path) -> VerdictRun:
    """Frame in -> verdict committed, on every 1280x720 hard frame the Scanner reads."""
    store = GateStore(work_dir / "gate.db", "bench-gate")
    journal = store.db.execute("PRAGMA journal_mode").fetchone()[0]
    synchronous = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}[store.db.execute("PRAGMA synchronous").fetchone()[0]]
    residents = [
        {"subject": s, "name": "", "unit": f"{i // 40 + 1}-{i % 40 + 101}"} for i, s in enumerate(issued.subjects)
    ]
    residents += [
        {"subject": subject_hash(issued.district_key, resident_id(100_000 + i)), "name": "", "unit": "x"}
        for i in range(2000)
    ]
    store.replace_table("roster", residents)
    gate = Gate(
        store,
        TrustList.from_dir(issued.keys / TRUST_SUBDIR),
        load_policy(REPO / "config" / "policy.toml"),
        issued.district_key,
    )
    scanner, debouncer = Scanner(), Debouncer(window=5.0)
    run = VerdictRun([], [], [], len(jpegs), 0, 0, 0, Counter(), f"journal_mode={journal}, synchronous={synchronous}")
    run.roster = len(residents)
    scanner.scan(decode_jpeg(jpegs[0]))
    try:
        for jpeg in jpegs:
            image = decode_jpeg(jpeg)  # the capture thread's work, not the keeper's wait
            t0 = time.perf_counter()
            result = scanner.scan(image)
            t1 = time.perf_counter()
            outcomes = [
                gate.present_code(text, direction=Direction.IN, now=JUDGED_AT) for text in result.texts if debouncer.is_new(text)
            ]
            t2 = time.perf_counter()
            entries = [o for o in outcomes if o.entry is not None]
            if not entries:
                continue
            run.committed += len(entries)
            run.decisions.update(o.assessment.verdict.decision.value for o in entries)
            run.total_ms.append((t2 - t0) * 1000)
            run.scan_ms.append((t1 - t0) * 1000)
            run.gate_ms.append((t2 - t1) * 1000)
        run.entries_in_db = store.count_entries()
        run.chain_problems = len(store.verify())
    finally:
        store.close()
    return run


def print_verdict(run: VerdictRun, work_dir: Path) -> None:
    print(
        "\nSCAN TO VERDICT at 1280x720: frame in -> Scanner.scan -> Debouncer -> Gate.present_code -> entry committed"
    )
    print(
        f"GateStore file in {work_dir} ({run.pragmas}); one distinct code per frame, roster of {run.roster} residents."
    )
    print(
        f"{len(run.total_ms)} of {run.frames} hard 1280x720 frames gave a verdict; {run.committed} entries committed,"
        f" {run.entries_in_db} found in the file afterwards,"
    )
    print(f"hash chain problems: {run.chain_problems}; verdicts: {dict(run.decisions)}.")
    print(f"{'':22}{'median':>8}{'p99':>8}{'max':>8}  ms")
    for label, values in (("scan", run.scan_ms), ("verify+judge+commit", run.gate_ms), ("total", run.total_ms)):
        slowest = max(values, default=float("nan"))
        print(f"{label:22}{percentile(values, 50):8.1f}{percentile(values, 99):8.1f}{slowest:8.1f}")


# -- targets -------------------------------------------------------------------------------------------------


def photo_rows(photos: DecodeRun) -> list[tuple[str, str, str, bool]]:
    """Issue 18's targets on the photo frames: more than the best single decoder in every kind, 90% in all, and
    the median time of a frame with a code at 1280x720."""
    rows = []
    for group in [*PHOTO_KINDS, "overall"]:
        n = len(photos.tallies[(group, OURS)].times_ms)
        rates = {name: photos.tallies[(group, name)].reads / n for name in ("pyzbar", "zxing-cpp", "OpenCV")}
        best_peer = max(rates, key=rates.__getitem__)
        ours = photos.tallies[(group, OURS)].reads / n
        label = "photo frames read" if group == "overall" else f"photo: {group}"
        rows.append(
            (
                label,
                f"{ours:.1%} vs {best_peer} {rates[best_peer]:.1%}",
                "more than the best peer",
                ours > rates[best_peer],
            )
        )
    ours = photos.tallies[("overall", OURS)].reads / len(photos.tallies[("overall", OURS)].times_ms)
    rows.append(("photo frames read, target", f"{ours:.1%}", f">= {TARGET_READ_AIM:.0%}", ours >= TARGET_READ_AIM))
    hd = f"{HD[0]}x{HD[1]}"
    median = percentile(photos.tallies[(hd, OURS)].times_ms, 50)
    rows.append(
        (f"median decode, {hd} photo", f"{median:.1f} ms", f"<= {TARGET_DECODE_MEDIAN_MS:.0f} ms",
         median <= TARGET_DECODE_MEDIAN_MS)
    )
    return rows


def print_targets(decode: DecodeRun, photos: DecodeRun, verdict: VerdictRun, idle: IdleRun) -> None:
    n = len(decode.tallies[("overall", OURS)].times_ms)
    rates = {name: decode.tallies[("overall", name)].reads / n for name in ("pyzbar", "zxing-cpp", "OpenCV")}
    best_peer = max(rates, key=rates.__getitem__)
    ours = decode.tallies[("overall", OURS)].reads / n
    hd = f"{HD[0]}x{HD[1]}"
    hd_median = percentile(decode.tallies[(hd, OURS)].times_ms, 50)
    v_median, v_p99 = percentile(verdict.total_ms, 50), percentile(verdict.total_ms, 99)
    idle_median = percentile(idle.times_ms[("bare room", OURS)], 50)

    def verdict_word(ok: bool) -> str:
        return "met" if ok else "MISSED"

    rows = [
        (
            "hard frames read vs best peer",
            f"{ours:.1%} vs {best_peer} {rates[best_peer]:.1%}",
            "more than the best peer",
            verdict_word(ours > rates[best_peer]),
        ),
        (
            "hard frames read, aim",
            f"{ours:.1%}",
            f">= {TARGET_READ_AIM:.0%} (aim)",
            verdict_word(ours >= TARGET_READ_AIM),
        ),
        (
            f"median decode, {hd} frame",
            f"{hd_median:.1f} ms",
            f"<= {TARGET_DECODE_MEDIAN_MS:.0f} ms",
            verdict_word(hd_median <= TARGET_DECODE_MEDIAN_MS),
        ),
        (
            f"no-code frame median, {hd}",
            f"{idle_median:.2f} ms (bare room)",
            f"<= {TARGET_IDLE_MEDIAN_MS:.1f} ms",
            verdict_word(idle_median <= TARGET_IDLE_MEDIAN_MS),
        ),
        (
            "scan-to-verdict median",
            f"{v_median:.1f} ms",
            f"<= {TARGET_VERDICT_MEDIAN_MS:.0f} ms",
            verdict_word(v_median <= TARGET_VERDICT_MEDIAN_MS),
        ),
        (
            "scan-to-verdict p99",
            f"{v_p99:.1f} ms",
            f"<= {TARGET_VERDICT_P99_MS:.0f} ms",
            verdict_word(v_p99 <= TARGET_VERDICT_P99_MS),
        ),
    ]
    rows += [(label, figure, target, verdict_word(ok)) for label, figure, target, ok in photo_rows(photos)]
    print("\nTARGETS")
    print(f"{'':32}{'figure':<30}{'target':<26}result")
    for label, figure, target, result in rows:
        print(f"{label:32}{figure:<30}{target:<26}{result}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Decode rate and time of our Scanner against pyzbar, zxing-cpp and OpenCV on generated hard "
        "frames and photo frames, then scan-to-verdict latency at 1280x720. Prints figures next to the targets.",
    )
    parser.add_argument(
        "--frames", type=int, default=420, help="Hard frames to make (cycled over 7 categories, 2 sizes). Default 420."
    )
    parser.add_argument(
        "--photo-frames",
        type=int,
        default=240,
        help=f"Photo frames to make (cycled over {len(PHOTO_KINDS)} kinds, 2 sizes, each kind's variants)."
        " Default 240.",
    )
    parser.add_argument(
        "--seed", type=int, default=2026, help="Seed of the frames; the same seed gives the same frames. Default 2026."
    )
    parser.add_argument(
        "--quick", action="store_true", help="140 hard, 72 photo and 10 empty frames: a look in about a minute."
    )
    parser.add_argument(
        "--empty-frames",
        type=int,
        default=30,
        help="Frames with no code per idle scene, timed through every decoder. Default 30.",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.frames, args.photo_frames, args.empty_frames = 140, 72, 10
    if args.frames < len(CATEGORIES) * len(RESOLUTIONS):
        parser.error(f"--frames must be at least {len(CATEGORIES) * len(RESOLUTIONS)} (every category at both sizes)")
    photo_minimum = 2 * len(PHOTO_KINDS) * len(RESOLUTIONS)
    if args.photo_frames < photo_minimum:
        parser.error(f"--photo-frames must be at least {photo_minimum} (every kind and variant at both sizes)")
    if args.empty_frames < 1:
        parser.error("--empty-frames must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    load_start = os.getloadavg()[0]
    print(
        f"Scan benchmark: {args.frames} hard and {args.photo_frames} photo frames, seed {args.seed},"
        f" {os.cpu_count()} CPUs,"
        f" load average {load_start:.2f} at start."
    )
    with tempfile.TemporaryDirectory(prefix="scan-bench-") as tmp:
        work = Path(tmp)
        issued = issue_codes(work / "hq-keys", max(args.frames, args.photo_frames), args.seed)
        hd_count = sum(frame_plan(i)[1] == HD for i in range(args.frames))
        print(
            f"Issued {len(issued.texts)} distinct codes ({len(issued.texts[0])} characters each, QR rendered by segno);"
            f" {hd_count} frames at 1280x720."
        )
        decode = run_decoders(generate(issued.texts, args.frames, args.seed), args.frames)
        print_decode_table(decode, args.frames, args.seed)
        photos = run_decoders(generate_photos(issued.texts, args.photo_frames, args.seed), args.photo_frames)
        print_decode_table(photos, args.photo_frames, args.seed, photos=True)
        idle = time_empty_frames(args.seed, args.empty_frames)
        print_idle(idle)
        verdict = scan_to_verdict(issued, decode.hd_jpegs, work)
        print_verdict(verdict, work)
        print_targets(decode, photos, verdict, idle)
    load_end = os.getloadavg()[0]
    print(
        f"\nLoad average {load_start:.2f} at start, {load_end:.2f} at the end on {os.cpu_count()} CPUs shared with"
        " other work: with load above the CPU count, times are inflated and noisy (rates are not affected)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
