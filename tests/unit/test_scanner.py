"""The Scanner on real QR images of issued codes, and the Debouncer that makes a held-up phone one scan.

Codes are signed with a fresh issuer key and rendered by segno as `pocket-hq issue --png` renders them; frames
are those images on a camera-sized canvas, degraded with OpenCV where a test needs a hard frame. How often and
how fast the Scanner reads is the benchmark's job (bench/scan_bench.py); these tests pin behaviour only.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import cv2
import numpy as np
import pytest
import segno

from kiosk.codes import Colour
from kiosk.codes.keys import DISTRICT_KEY_FILE, create_issuer_keys, load_issuer_key
from kiosk.codes.pgc import issue_code
from kiosk.identity import load_district_key, resident_id_check_digit, subject_hash
from kiosk.scanner import Debouncer, Scanner, ScanResult, ZbarDecoder, ZxingDecoder


def resident_id(serial: int) -> str:
    first17 = f"11010119900101{serial:03d}"
    return first17 + resident_id_check_digit(first17)


@pytest.fixture(scope="module")
def codes(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """Three real codes, issued as HQ issues them."""
    folder = tmp_path_factory.mktemp("scanner-keys")
    create_issuer_keys(folder)
    key = load_issuer_key(folder)
    district_key = load_district_key(folder / DISTRICT_KEY_FILE)
    now = datetime.now(UTC)
    return [
        issue_code(
            key,
            issuer="district-hq",
            subject=subject_hash(district_key, resident_id(serial)),
            name="Z**** S**",
            colour=Colour.GREEN,
            issued_at=now,
            expires_at=now + timedelta(hours=24),
            negative_test_at=now - timedelta(hours=20),
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


def test_out_of_focus_frame_missed_by_plain_zxing_is_read_after_sharpening(codes: list[str]) -> None:
    # 4 pixels per module blurred with sigma 2.35 px (0.59 module). Over 300 issued codes plain zxing-cpp read
    # none, the sharpen pass read 299 and sharpen+upscale the last one (sigma 2.2-2.4 behave alike).
    for text in codes:
        frame = cv2.GaussianBlur(camera_frame(qr_image(text, scale=4)), (0, 0), 2.35)
        gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        assert ZxingDecoder().decode(gray) == [], "the frame must be hard for the plain decoder"
        result = Scanner().scan(frame)
        assert result.texts == [text]
        assert result.decoder.startswith("zxing-cpp+sharpen")


def test_without_repairs_the_scanner_misses_what_the_repairs_read(codes: list[str]) -> None:
    frame = cv2.GaussianBlur(camera_frame(qr_image(codes[0], scale=4)), (0, 0), 2.35)
    assert Scanner(repairs=()).scan(frame).texts == []


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


def test_the_gate_scanner_has_no_last_resort_by_default() -> None:
    """The benchmark shows zbar adds no reads after the repairs, so the gate does not pay for it."""
    assert Scanner().last_resort is None


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
