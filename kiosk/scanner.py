"""QR decoding on camera frames: zxing-cpp first, image repairs only where a code was seen and not read.

The decoders are in kiosk/decoders.py behind the one-method `Decoder` interface, so the benchmark
(bench/scan_bench.py) runs every peer on the same frames; the image repairs are in kiosk/repairs.py. `Scanner`
is what the gate uses. Most frames a gate camera delivers show no code
at all, so the Scanner's rule is that work follows evidence of a code:

1. the first pass: zxing-cpp over the frame, asked also for the symbols it located but could not decode;
2. when it located nothing, the search pass: zxing-cpp over a sharpened copy reduced to at most 640x480;
3. when that located nothing either, a texture test (no decoding) for a region that looks like a QR code, and
   only if there is one, probes of that region (enlarged and sharpened, smoothed, a motion streak undone);
4. around every symbol located on the way, repairs on a crop resampled to 7 pixels per module; then each located
   whole code warped from its corners to a square and unbent as if printed round a bottle; then, around a lone
   finder pattern, the code traced by its outline and warped from that to a square (steep perspective);
5. last, zbar on the crops around the located symbols (it reads some cracked and blotched codes zxing-cpp does
   not).

A bare frame costs passes 1 and 2 and the texture test (about 3 ms at 1280x720, where the previous Scanner ran
every full-frame repair on it for 25-30 ms) and never reaches a probe, a repair or zbar (`Scanner.passes` counts
them). `Debouncer` turns a code held in front of the camera into one scan.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain

import numpy as np

from kiosk.decoders import Decoder, Located, ZbarDecoder, ZxingDecoder, to_gray
from kiosk.repairs import (
    CROP_MAX_COUNT,
    DEFAULT_REPAIRS,
    LAST_RESORT_REPAIRS,
    OUTLINED_REPAIRS,
    REGION_MAX_PIXELS,
    REGION_PROBES,
    REGION_QUIET_FRAMES,
    REGION_SAME_OVERLAP,
    SQUARE_REPAIRS,
    Repair,
    crop_boxes,
    overlap,
    outlined,
    reduce_to,
    resample,
    search_image,
    squared,
    textured_region,
)

LAST_RESORT = ZbarDecoder()
"""zbar, the gate's last resort: only on crops around a code zxing-cpp located and could not read, after every
repair (it reads cracked and blotched codes zxing-cpp does not, and it never runs on a frame without a code)."""
MAX_TEXT_CHARS = 8192
"""Longer texts are cut here; no format we read is anywhere near, and the parser refuses them anyway."""


@dataclass(frozen=True)
class ScanResult:
    texts: list[str]
    decoder: str
    """Which pass read it: 'zxing-cpp' (the first pass), 'zxing-cpp+search', 'zxing-cpp+region:smooth' (a probe of
    a textured region), 'zxing-cpp+crop:sharpen' (a repair on a crop around a located symbol), 'zxing-cpp+square'
    or 'zxing-cpp+unbent:57deg:columns' (a located code made square, then unbent), 'zxing-cpp+outlined:plain' (a
    code made square by its outline), 'zbar+crop:plain' (the last resort on a crop); '' when nothing was read."""


class Scanner:
    """Finds QR texts in a frame, trying harder only where it has seen a code (see the module docstring).

    On the benchmark's hard frames (bench/scan_bench.py; 420 frames per seed, half 640x480, half 1280x720, seeds
    2026, 5, 11, 42, 1, 7) the Scanner reads 92.6-94.8%, where zxing-cpp alone reads 71.0-76.2%, zbar about 55%
    and the previous Scanner (full-frame repairs on every missed frame) 87.9-90.2%. By pass, on seed 2026: the first
    pass reads 316 frames, the crop repairs 59, the texture probes 15 and the search pass 8 (both also hand
    located symbols to the crop repairs). At 1280x720 a frame costs a median 2.2 ms and 36 ms at p99 (the hard
    frames the repairs work on); a frame with no code 3.8 ms, or about 12 ms with a page of print in view, whose
    texture sets off the probes (see REGION_QUIET_FRAMES for a page that stays); at load average 0.7-1.2.

    Issue 18's passes (squares, unbending, outlines, zbar on the crops) run only after every earlier repair read
    nothing. On the photo frames (bench/scan_bench.py, 240 per seed: glare, damage, curves, dot styles, steep small
    codes, blur with dim light and JPEG) the Scanner reads 91.2% and 90.8% on seeds 2026 and 7 (zxing-cpp alone
    72.9% and 74.2%) and 88.8% on seed 42 (zxing-cpp 69.6%), a seed kept out while the passes were chosen; on the
    hard frames of seed 2026, 96.9% (94.8% before). A bare frame runs none of them (callgrind: the same instructions
    per frame before and after, within 1%). A frame they read is slow, 60-220 ms at load 6-8: over the hard frames
    read at 1280x720, p99 went from 41-51 to 90-106 ms in the same runs, median 2.0-2.5 ms both.

    `passes` counts the decoder passes run, by kind ('first', 'search', 'probe', 'repair', 'last resort'; and
    'probe skipped' for a textured region left alone, see REGION_QUIET_FRAMES), for the benchmark and the tests.
    `search=False` leaves out the search pass and the texture probes, `repairs=()` every zxing-cpp repair.
    `last_resort` is a different decoder (zbar by default, None for none) run on the crops around located symbols
    after every repair read nothing; never on a frame where nothing was located, so a frame without a code never
    pays for it. A `first` decoder without a `locate` method (zbar's) gets no search and no repairs, nothing
    telling where to look, and its last resort looks at the whole frame instead."""

    def __init__(
        self,
        first: Decoder | None = None,
        repairs: tuple[Repair, ...] = DEFAULT_REPAIRS,
        last_resort: Decoder | None = LAST_RESORT,
        search: bool = True,
    ) -> None:
        self.first = first or ZxingDecoder()
        self.repairs = repairs
        self.last_resort = last_resort
        self.search = search
        self.passes: Counter[str] = Counter()
        self._quiet: tuple[tuple[int, int, int, int], int] | None = None
        """The last textured region whose probes found nothing, and how many more frames it is left alone."""

    def scan(self, image: np.ndarray) -> ScanResult:
        gray = to_gray(image)
        texts, located, via = self._find(gray)
        if not texts and located:
            texts, via = self._repair(gray, located)
        elif not texts and self.last_resort is not None and not hasattr(self.first, "locate"):
            self.passes["last resort"] += 1  # nothing can tell where a code is: the last resort looks everywhere
            texts, via = self.last_resort.decode(gray), self.last_resort.name
        return ScanResult(_clean(texts), via) if texts else ScanResult([], "")

    def _find(self, gray: np.ndarray) -> tuple[list[str], list[Located], str]:
        """Texts read on the way (and by which pass), or the symbols located where a code seems to be."""
        name = self.first.name
        self.passes["first"] += 1
        locate = getattr(self.first, "locate", None)
        if locate is None:
            return self.first.decode(gray), [], name
        texts, located = locate(gray)
        if texts or located or not self.search:
            return texts, located, name
        self.passes["search"] += 1
        small, scale = search_image(gray)
        texts, found = locate(small)
        if texts or found:
            return texts, [symbol.to_frame(scale) for symbol in found], f"{name}+search"
        region = textured_region(gray)
        if region is None:
            return [], [], ""
        if self._quiet is not None:
            quiet_region, frames_left = self._quiet
            if frames_left > 0 and overlap(region, quiet_region) >= REGION_SAME_OVERLAP:
                self._quiet = quiet_region, frames_left - 1
                self.passes["probe skipped"] += 1
                return [], [], ""
        self._quiet = None
        x0, y0, x1, y1 = region
        crop, reduction = reduce_to(np.ascontiguousarray(gray[y0:y1, x0:x1]), REGION_MAX_PIXELS)
        for probe_name, probe in REGION_PROBES:
            if (probed := probe(crop)) is None:
                continue
            self.passes["probe"] += 1
            image, scale = probed
            texts, found = locate(image)
            if texts or found:
                return texts, [s.to_frame(scale * reduction, x0, y0) for s in found], f"{name}+region:{probe_name}"
        self._quiet = region, REGION_QUIET_FRAMES
        return [], [], ""

    def _repair(self, gray: np.ndarray, located: list[Located]) -> tuple[list[str], str]:
        """The repairs in turn, each followed by a zxing-cpp pass, then the last resort on the crops, until one
        reads: every repair on the crops around the located symbols, then each located whole code made square and
        unbent, then the code around a lone finder pattern made square by its outline."""
        boxes = crop_boxes(located, gray.shape)[:CROP_MAX_COUNT]
        crops = [resample(np.ascontiguousarray(gray[y0:y1, x0:x1]), module) for x0, y0, x1, y1, module in boxes]
        if self.repairs:
            attempts = chain(
                _on_crops(crops, self.repairs), _on_squares(gray, located), _on_outlines(boxes, crops, located)
            )
            for repair_name, repaired in attempts:  # lazily: each is made only when the one before read nothing
                self.passes["repair"] += 1
                if texts := self.first.decode(repaired):
                    return texts, f"{self.first.name}+{repair_name}"
        if self.last_resort is not None:
            for repair_name, repaired in _on_crops(crops, LAST_RESORT_REPAIRS):
                self.passes["last resort"] += 1
                if texts := self.last_resort.decode(repaired):
                    return texts, f"{self.last_resort.name}+{repair_name}"
        return [], ""


def _on_crops(crops: list[np.ndarray], repairs: tuple[Repair, ...]) -> Iterator[tuple[str, np.ndarray]]:
    """('crop:NAME', image) for every repair that applies to each crop."""
    for crop in crops:
        for repair_name, repair in repairs:
            if (repaired := repair(crop)) is not None:
                yield f"crop:{repair_name}", repaired


def _on_squares(gray: np.ndarray, located: list[Located]) -> Iterator[tuple[str, np.ndarray]]:
    """(NAME, image) for every SQUARE_REPAIRS on each located whole code made square."""
    for symbol in [symbol for symbol in located if symbol.whole][:CROP_MAX_COUNT]:
        if (square := squared(gray, symbol)) is not None:
            for repair_name, repair in SQUARE_REPAIRS:
                yield repair_name, repair(square)


def _on_outlines(
    boxes: list[tuple[int, int, int, int, float]], crops: list[np.ndarray], located: list[Located]
) -> Iterator[tuple[str, np.ndarray]]:
    """('outlined:NAME', image) for every OUTLINED_REPAIRS on the code traced around the first located symbol in
    each crop."""
    centres = [symbol.corners.mean(axis=0) for symbol in located]
    for (x0, y0, x1, y1, _), crop in zip(boxes, crops, strict=True):
        inside = [(x, y) for x, y in centres if x0 <= x < x1 and y0 <= y < y1]
        if not inside:
            continue
        scale = crop.shape[1] / (x1 - x0)
        if (square := outlined(crop, ((inside[0][0] - x0) * scale, (inside[0][1] - y0) * scale))) is not None:
            for repair_name, repair in OUTLINED_REPAIRS:
                yield f"outlined:{repair_name}", repair(square)


def _clean(texts: list[str]) -> list[str]:
    """Distinct texts in the order found, each bounded in length."""
    return list(dict.fromkeys(t[:MAX_TEXT_CHARS] for t in texts))


class Debouncer:
    """A code that stays in view, or comes back within `window` seconds, is one scan.

    Every sighting refreshes the code's time, so a phone held up for a minute is still one entry; the code
    must be out of view for `window` seconds before it counts again."""

    def __init__(self, window: float, clock: Callable[[], float] = time.monotonic, max_remembered: int = 256) -> None:
        self.window = window
        self.clock = clock
        self.max_remembered = max_remembered
        self._last_seen: dict[str, float] = {}

    def is_new(self, text: str) -> bool:
        now = self.clock()
        self._last_seen = {t: seen for t, seen in self._last_seen.items() if now - seen < self.window}
        new = text not in self._last_seen
        self._last_seen[text] = now
        if len(self._last_seen) > self.max_remembered:
            oldest = min(self._last_seen, key=self._last_seen.__getitem__)
            del self._last_seen[oldest]
        return new
