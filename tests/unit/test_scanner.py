"""The Scanner on real QR images of issued codes, and the Debouncer that makes a held-up phone one scan.

Codes are signed as HQ signs them, with an issuer key made from fixed bytes and fixed times so that every run sees
the same QR patterns, and rendered by segno as `pocket-hq issue --png` renders them; frames are those images on a
camera-sized canvas, degraded with OpenCV where a test needs a hard frame. How often and how fast the Scanner
reads is the benchmark's job (bench/scan_bench.py); these tests pin behaviour only.
"""

from __future__ import annotations

import hashlib
import io
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest
import segno
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from kiosk.codes import Colour
from kiosk.codes.keys import PRIVATE_KEY_FILE, load_issuer_key
from kiosk.codes.pgc import issue_code
from kiosk.identity import resident_id_check_digit, subject_hash
from kiosk.decoders import ZbarDecoder, ZxingDecoder
from kiosk.repairs import REGION_QUIET_FRAMES, motion_streak, textured_region
from kiosk.scanner import Debouncer, Scanner, ScanResult

ISSUED_AT = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)


def resident_id(serial: int) -> str:
    first17 = f"11010119900101{serial:03d}"
    return first17 + resident_id_check_digit(first17)


@pytest.fixture(scope="module")
def codes(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Three real codes, issued as HQ issues them, the same on every run (Ed25519 signs deterministically)."""
    folder: Path = tmp_path_factory.mktemp("scanner-keys")
    seed = hashlib.sha256(b"pocket-gate scanner tests").digest()
    private_key = ed25519.Ed25519PrivateKey.from_private_bytes(seed)
    pem = private_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (folder / PRIVATE_KEY_FILE).write_bytes(pem)
    key = load_issuer_key(folder)
    district_key = hashlib.sha256(b"pocket-gate scanner tests district").digest()
    return [
        issue_code(
            key,
            issuer="district-hq",
            subject=subject_hash(district_key, resident_id(serial)),
            name="Z**** S**",
            colour=Colour.GREEN,
            issued_at=ISSUED_AT,
            expires_at=ISSUED_AT + timedelta(hours=24),
            negative_test_at=ISSUED_AT - timedelta(hours=20),
        )
        for serial in range(3)
    ]


def qr_image(text: str, scale: int) -> np.ndarray:
    """The QR exactly as `pocket-hq issue --png` writes it (segno, error level M, 4-module border), greyscale."""
    buffer = io.BytesIO()
    segno.make(text, error="m").save(buffer, kind="png", scale=scale, border=4)
    image = cv2.imdecode(np.frombuffer(buffer.getvalue(), np.uint8), cv2.IMREAD_GRAYSCALE)
    assert image is not None
    return image


def camera_frame(*images: np.ndarray, size: tuple[int, int] = (1280, 720)) -> np.ndarray:
    """A BGR frame like a webcam's: grey surroundings with the images side by side in the middle."""
    width, height = size
    frame = np.full((height, width), 140, np.uint8)
    x = (width - sum(image.shape[1] for image in images) - 40 * (len(images) - 1)) // 2
    for image in images:
        y = (height - image.shape[0]) // 2
        frame[y : y + image.shape[0], x : x + image.shape[1]] = image
        x += image.shape[1] + 40
    return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)


def test_clean_frame_is_read_by_the_first_pass(codes: list[str]) -> None:
    result = Scanner().scan(camera_frame(qr_image(codes[0], scale=6)))
    assert result.texts == [codes[0]]
    assert result.decoder == "zxing-cpp"


def test_greyscale_frames_are_read_too(codes: list[str]) -> None:
    gray = cv2.cvtColor(camera_frame(qr_image(codes[0], scale=6)), cv2.COLOR_BGR2GRAY)
    assert Scanner().scan(gray).texts == [codes[0]]


def out_of_focus(text: str) -> np.ndarray:
    """4 pixels per module blurred with sigma 2.35 px (0.59 module): zxing-cpp finds the code and cannot read it."""
    return cv2.GaussianBlur(camera_frame(qr_image(text, scale=4)), (0, 0), 2.35)


def streaked(text: str, length: float, direction: float, scale: int = 5) -> np.ndarray:
    """The code moved `length` pixels in `direction` (degrees, y down) during the exposure: the mean of the frame
    shifted to 21 points along the way (made independently of the Scanner's own streak kernel)."""
    frame = cv2.cvtColor(camera_frame(qr_image(text, scale=scale)), cv2.COLOR_BGR2GRAY).astype(np.float32)
    height, width = frame.shape
    total = np.zeros_like(frame)
    for step in np.linspace(-length / 2, length / 2, 21):
        dx, dy = step * math.cos(math.radians(direction)), step * math.sin(math.radians(direction))
        shift = np.float32([[1, 0, dx], [0, 1, dy]])
        total += cv2.warpAffine(frame, shift, (width, height), borderMode=cv2.BORDER_REPLICATE)
    return np.clip(total / 21, 0, 255).astype(np.uint8)


def room(seed: int, size: tuple[int, int] = (1280, 720)) -> np.ndarray:
    """A frame with no code: an unevenly lit wall, a few hard-edged things in front of it, sensor noise."""
    rng = np.random.default_rng(seed)
    width, height = size
    wall = cv2.resize(rng.uniform(50, 190, (6, 8)).astype(np.float32), size, interpolation=cv2.INTER_CUBIC)
    for _ in range(4):
        x, y = int(rng.integers(0, width - 200)), int(rng.integers(0, height - 150))
        cv2.rectangle(wall, (x, y), (x + int(rng.integers(40, 400)), y + int(rng.integers(40, 240))), 200.0, -1)
    wall += rng.normal(0, 3, wall.shape).astype(np.float32)
    return np.clip(wall, 0, 255).astype(np.uint8)


def test_a_code_located_but_not_decoded_is_read_by_a_repair_on_a_crop_around_it(codes: list[str]) -> None:
    # Over 40 other issued codes at these settings plain zxing-cpp read none and located all, and the first crop
    # repair, 'equalise+sharpen', read all 40.
    for text in codes:
        frame = out_of_focus(text)
        texts, located = ZxingDecoder().locate(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY))
        assert texts == [] and located, "zxing-cpp must find the code and fail to read it"
        code_side = qr_image(text, scale=4).shape[0]
        left, top = (1280 - code_side) / 2, (720 - code_side) / 2
        for symbol in located:
            x, y = symbol.corners.mean(axis=0)
            assert left <= x <= left + code_side and top <= y <= top + code_side, "located on the code"
        scanner = Scanner()
        result = scanner.scan(frame)
        assert result.texts == [text]
        assert result.decoder.startswith("zxing-cpp+crop:")
        assert scanner.passes["repair"] >= 1
        assert scanner.passes["search"] == 0, "a located code goes straight to the repairs"


def test_without_repairs_the_scanner_misses_what_the_repairs_read(codes: list[str]) -> None:
    assert Scanner(repairs=(), last_resort=None).scan(out_of_focus(codes[0])).texts == []


def test_a_frame_without_a_code_runs_no_repair_and_no_probe() -> None:
    scanner = Scanner()
    frames = [room(seed) for seed in range(5)] + [camera_frame()]
    for frame in frames:
        assert scanner.scan(frame) == ScanResult([], "")
    assert scanner.passes["first"] == len(frames) and scanner.passes["search"] == len(frames)
    assert scanner.passes["probe"] == 0, "nothing in a bare room looks like a code"
    assert scanner.passes["repair"] == 0


def printed_notice(seed: int = 3) -> np.ndarray:
    """A frame with no code but a page of print held up: busy enough to look like a code to the texture test."""
    rng = np.random.default_rng(seed)
    frame = room(seed)
    cv2.rectangle(frame, (400, 100), (820, 660), 235, -1)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz    ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"))
    for row in range(24):
        line = "".join(rng.choice(letters, 40))
        cv2.putText(frame, line, (415, 130 + row * 21), cv2.FONT_HERSHEY_SIMPLEX, 0.45, 40, 1)
    return frame


def test_a_busy_scene_without_a_code_is_probed_then_left_alone_for_a_while(codes: list[str]) -> None:
    notice = printed_notice()
    assert textured_region(notice) is not None, "print looks busy enough to probe"
    scanner = Scanner()
    assert scanner.scan(notice) == ScanResult([], "")
    probes = scanner.passes["probe"]
    assert probes >= 1 and scanner.passes["repair"] == 0
    for _ in range(REGION_QUIET_FRAMES):
        assert scanner.scan(notice) == ScanResult([], "")
    assert scanner.passes["probe"] == probes and scanner.passes["probe skipped"] == REGION_QUIET_FRAMES
    scanner.scan(notice)
    assert scanner.passes["probe"] > probes, "probed again once the quiet frames are over"
    with_code = printed_notice()
    with_code[100:100 + 260, 900:900 + 260] = qr_image(codes[0], scale=4)
    assert scanner.scan(with_code).texts == [codes[0]], "a code in view is read while the print is left alone"


def test_motion_streak_is_measured_from_the_image(codes: list[str]) -> None:
    for text, (length, direction) in zip(codes, [(10.0, 75.0), (8.0, 30.0), (12.0, 140.0)], strict=True):
        frame = streaked(text, length, direction)
        region = textured_region(frame)
        assert region is not None, "the streaked code is found by its texture"
        x0, y0, x1, y1 = region
        assert x0 < 640 < x1 and y0 < 360 < y1, "the region is around the code"
        streak = motion_streak(frame[y0:y1, x0:x1])
        assert streak is not None
        found_direction, found_length = streak
        assert abs((found_direction - direction + 90) % 180 - 90) < 4
        assert 0.8 * length < found_length < 1.2 * length
    assert motion_streak(cv2.cvtColor(camera_frame(qr_image(codes[0], scale=5)), cv2.COLOR_BGR2GRAY)) is None


def test_a_code_streaked_by_motion_is_read_once_the_streak_is_undone(codes: list[str]) -> None:
    # A streak of 2.5 modules: zxing-cpp neither reads nor locates the code; the texture test finds its region and
    # undoing the measured streak there reads it (40 other issued codes of 40).
    for text in codes:
        frame = streaked(text, 10.0, 75.0, scale=4)
        assert ZxingDecoder().locate(frame) == ([], [])
        scanner = Scanner()
        result = scanner.scan(frame)
        assert result.texts == [text]
        assert result.decoder == "zxing-cpp+region:motion"
        assert scanner.passes["probe"] >= 1 and scanner.passes["repair"] == 0


def test_two_codes_in_one_frame_are_both_read_once_each(codes: list[str]) -> None:
    frame = camera_frame(qr_image(codes[0], scale=5), qr_image(codes[1], scale=5), qr_image(codes[0], scale=5))
    result = Scanner().scan(frame)
    assert sorted(result.texts) == sorted([codes[0], codes[1]])


def test_frame_without_a_code_reads_nothing_after_every_pass() -> None:
    rng = np.random.default_rng(7)
    noise = cv2.GaussianBlur(rng.integers(0, 256, (720, 1280), dtype=np.uint8), (0, 0), 3)
    assert Scanner(last_resort=ZbarDecoder()).scan(noise) == ScanResult([], "")


def test_last_resort_runs_only_when_the_first_pass_and_repairs_read_nothing(codes: list[str]) -> None:
    # zbar does not read inverted (light on dark) codes, zxing-cpp does: a real pair of decoders to show
    # the last resort's read is returned under its own name, and only when the first pass read nothing.
    clean = camera_frame(qr_image(codes[2], scale=6))
    inverted = 255 - clean
    fallback = Scanner(first=ZbarDecoder(), repairs=(), last_resort=ZxingDecoder())
    assert ZbarDecoder().decode(cv2.cvtColor(inverted, cv2.COLOR_BGR2GRAY)) == []
    assert fallback.scan(inverted) == ScanResult([codes[2]], "zxing-cpp")
    assert fallback.scan(clean) == ScanResult([codes[2]], "zbar"), "a first-pass read never reaches the last resort"


def test_the_gate_scanner_has_zbar_as_its_last_resort() -> None:
    """zbar reads cracked and blotched codes zxing-cpp does not (bench/scan_bench.py's photo frames); it runs only
    on crops around a located code (tests/unit/test_scanner_photos.py), so a frame without a code never pays."""
    assert isinstance(Scanner().last_resort, ZbarDecoder)


class FakeClock:
    """A clock the test moves by hand (the Debouncer takes any callable returning seconds)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_code_held_in_view_is_one_scan() -> None:
    clock = FakeClock()
    debouncer = Debouncer(window=3.0, clock=clock)
    sightings = []
    for _ in range(600):  # a phone held up for a minute, seen ten times a second
        sightings.append(debouncer.is_new("PGC1:A"))
        clock.now += 0.1
    assert sightings[0] is True
    assert not any(sightings[1:])


def test_code_counts_again_only_after_being_out_of_view_for_the_window() -> None:
    clock = FakeClock()
    debouncer = Debouncer(window=3.0, clock=clock)
    assert debouncer.is_new("PGC1:A")
    clock.now += 2.9
    assert not debouncer.is_new("PGC1:A"), "back within the window: still the same presentation"
    clock.now += 2.9
    assert not debouncer.is_new("PGC1:A"), "each sighting restarts the window"
    clock.now += 3.0
    assert debouncer.is_new("PGC1:A"), "out of view for the whole window: a new presentation"


def test_codes_are_debounced_independently() -> None:
    clock = FakeClock()
    debouncer = Debouncer(window=3.0, clock=clock)
    assert debouncer.is_new("PGC1:A")
    assert debouncer.is_new("PGC1:B")
    clock.now += 1.0
    assert not debouncer.is_new("PGC1:A")
    assert not debouncer.is_new("PGC1:B")
    assert debouncer.is_new("PGC1:C")


def test_memory_stays_bounded_and_the_oldest_code_is_forgotten_first() -> None:
    clock = FakeClock()
    debouncer = Debouncer(window=60.0, clock=clock, max_remembered=100)
    for n in range(10_000):  # a crowd within one window: far more codes than are remembered
        debouncer.is_new(f"PGC1:{n}")
        clock.now += 0.001
    assert len(debouncer._last_seen) <= 100
    assert not debouncer.is_new("PGC1:9999"), "the newest codes are still remembered"
    assert debouncer.is_new("PGC1:0"), "the oldest was dropped to keep memory bounded"
