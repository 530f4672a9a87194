"""Image repairs for frames the first zxing-cpp pass could not read: a reduced, sharpened search image; a test
for a QR-like textured region and probes of it; crops around located symbols resampled to a workable module
size, and the repairs tried on them (contrast, smoothing, sharpening, blind motion deblurring); a located code made
square from its corners and unbent off a cylinder, or made square from its traced outline.

Every function here is pure image work on greyscale numpy arrays; `kiosk.scanner.Scanner` decides when each runs.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import cv2
import numpy as np

from kiosk.decoders import Located


# -- the search pass: where the first pass located nothing -------------------------------------------------------

SEARCH_PIXELS = 320_000
"""The search passes look at the frame reduced by a whole factor to at most this many pixels: 1280x720 to
640x360, 640x480 as it is."""


def search_image(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """An unsharp-masked copy at most SEARCH_PIXELS large, and its scale to the frame (<= 1).

    Out-of-focus and dim codes lose the sharp finder-pattern edges zxing-cpp looks for; sharpening gives them back,
    and reducing the frame first keeps the pass at about half the first pass's cost."""
    small, scale = reduce_to(gray, SEARCH_PIXELS)
    return _unsharp(small, 1.5, 2.0), scale


def reduce_to(gray: np.ndarray, max_pixels: int) -> tuple[np.ndarray, float]:
    """The image reduced by the smallest whole factor that brings it to at most `max_pixels`, and that scale.

    A whole factor keeps OpenCV's area reduction on its fast path (0.1 ms at 1280x720, not 2.4 for 0.59)."""
    factor = math.ceil(math.sqrt(gray.size / max_pixels))
    if factor == 1:
        return gray, 1.0
    return cv2.resize(gray, None, fx=1 / factor, fy=1 / factor, interpolation=cv2.INTER_AREA), 1 / factor


TEXTURE_WINDOW = 15
"""Side of the window, in pixels of the reduced frame, over which busy-ness is judged (3-9 modules of a code)."""
TEXTURE_EDGE_SHARE = 5
"""A pixel is an edge when its 3x3 grey-level gradient exceeds 1/5 of its window's grey-level range."""
TEXTURE_MIN_RANGE = 40
"""Grey levels between a window's darkest and lightest pixel below which nothing in it is an edge. Sensor noise
must stay under it: at 24, a dim wall with noise of sigma 4-8 looked busy in 8-10 frames of 10; at 40, in none of
30. (A code with less contrast than this is left to zxing-cpp, which locates low-contrast codes well.)"""
TEXTURE_BUSY = 0.55
"""Share of edge pixels that makes a neighbourhood busy: a QR's modules put edges everywhere; a wall, a face or
the edge of a door give a thin line of them."""
TEXTURE_BLOCK = 4
"""Busy-ness is pooled over blocks of this many reduced pixels before regions are traced."""
TEXTURE_CLOSE = 3
"""Gaps of up to this many blocks between busy blocks are closed first: a streaked code is busy in patches."""
TEXTURE_MIN_AREA = 1500
"""Busy area (reduced pixels) a region needs: a QR of 65 modules at 1.6 px per module at 1280x720."""
TEXTURE_MIN_FILL = 0.3
TEXTURE_MAX_ASPECT = 2.2
"""A code's busy region fills much of its bounding box and is not a long strip (a QR tilted 66 degrees is 2.1:1)."""
_SQUARE_3 = cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3))
_SQUARE_WINDOW = cv2.getStructuringElement(cv2.MORPH_RECT, (TEXTURE_WINDOW, TEXTURE_WINDOW))
_SQUARE_CLOSE = cv2.getStructuringElement(cv2.MORPH_RECT, (TEXTURE_CLOSE, TEXTURE_CLOSE))


def textured_region(gray: np.ndarray) -> tuple[int, int, int, int] | None:
    """The largest region that looks like a code to a texture test, as (x0, y0, x1, y1) frame pixels, or None.

    A QR code is the busiest thing in most scenes a gate camera sees: a square where edges in every direction
    are packed a module apart. This finds such a region even when the code is too blurred or streaked for
    zxing-cpp to find its finder patterns, so the repairs know where to work. The test runs on the frame reduced
    to SEARCH_PIXELS, and again at half that size for codes with modules too big for its window. Measured on the
    benchmark's frames (seeds 1, 7, 2026): the region holds the code in all 90 frames where neither zxing-cpp pass
    located anything, and none of the 90 frames without a code has one, nor do dim walls with heavy sensor noise;
    a page of print or a chequered shirt does (its probes then cost a few ms). About 1 ms at 1280x720."""
    small, scale = reduce_to(gray, SEARCH_PIXELS)
    for _ in range(2):
        if (box := _busiest_region(small)) is not None:
            x0, y0, x1, y1 = (round(v / scale) for v in box)
            pad_x, pad_y = (x1 - x0) // 10, (y1 - y0) // 10
            height, width = gray.shape[:2]
            return max(0, x0 - pad_x), max(0, y0 - pad_y), min(width, x1 + pad_x), min(height, y1 + pad_y)
        small, scale = cv2.resize(small, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA), scale / 2
    return None


def _busiest_region(small: np.ndarray) -> tuple[int, int, int, int] | None:
    """`textured_region` at one scale, in the pixels of `small`."""
    grey_range = cv2.subtract(cv2.dilate(small, _SQUARE_WINDOW), cv2.erode(small, _SQUARE_WINDOW))
    gradient = cv2.morphologyEx(small, cv2.MORPH_GRADIENT, _SQUARE_3)
    edges = cv2.compare(cv2.multiply(gradient, TEXTURE_EDGE_SHARE), grey_range, cv2.CMP_GT)
    edges = cv2.bitwise_and(edges, cv2.compare(grey_range, TEXTURE_MIN_RANGE, cv2.CMP_GT))
    height, width = edges.shape
    block = TEXTURE_BLOCK
    pooled = cv2.resize(edges, (width // block, height // block), interpolation=cv2.INTER_AREA)
    pooled = cv2.blur(pooled, (TEXTURE_WINDOW // block, TEXTURE_WINDOW // block))
    busy = cv2.morphologyEx(cv2.compare(pooled, int(TEXTURE_BUSY * 255), cv2.CMP_GT), cv2.MORPH_CLOSE, _SQUARE_CLOSE)
    count, _, stats, _ = cv2.connectedComponentsWithStats(busy, connectivity=8)
    best: tuple[int, int, int, int] | None = None
    best_area = 0
    for x, y, box_width, box_height, cells in stats[1:count]:
        area = int(cells) * block * block
        fill = cells / (box_width * box_height)
        aspect = max(box_width, box_height) / min(box_width, box_height)
        if area >= max(TEXTURE_MIN_AREA, best_area + 1) and fill >= TEXTURE_MIN_FILL and aspect <= TEXTURE_MAX_ASPECT:
            best, best_area = (x * block, y * block, (x + box_width) * block, (y + box_height) * block), area
    return best


def overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> float:
    """Intersection over union of two (x0, y0, x1, y1) boxes."""
    width = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    height = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = width * height
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def _enlarge(gray: np.ndarray, scale: float) -> np.ndarray:
    return cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)


def _probe_sharpen(region: np.ndarray) -> tuple[np.ndarray, float]:
    """Twice the size, then an unsharp mask: a defocused or far code gets finder patterns zxing-cpp can find."""
    return _unsharp(_enlarge(region, 2.0), 4.0, 2.0), 2.0


def _probe_smooth(region: np.ndarray) -> tuple[np.ndarray, float]:
    """A 1-pixel Gaussian, then twice the size: a phone screen's pixel grid (moire) melts into the modules."""
    return _enlarge(cv2.GaussianBlur(region, (0, 0), 1.0), 2.0), 2.0


def _probe_motion(region: np.ndarray) -> tuple[np.ndarray, float] | None:
    """The motion streak estimated and undone (see `motion_streak`); None when the region is not streaked."""
    restored = deblur_motion(region)
    return None if restored is None else (restored, 1.0)


Probe = tuple[str, Callable[[np.ndarray], tuple[np.ndarray, float] | None]]
REGION_PROBES: tuple[Probe, ...] = (
    ("sharpen", _probe_sharpen),
    ("smooth", _probe_smooth),
    ("motion", _probe_motion),
)
"""Tried in turn on a textured region (reduced to REGION_MAX_PIXELS) until one reads a code or locates a symbol,
which then goes to the crop repairs. On the benchmark's hard frames (6 seeds of 420 frames), leaving one out
loses: sharpen 2-13 frames (defocused and far codes), motion 4-7 (motion blur, which nothing else reads), smooth
0-5 (moire on phone screens); the texture test and its probes together add 3.6-6.9% of all frames."""
REGION_QUIET_FRAMES = 10
"""After a textured region's probes found nothing, the same region (boxes overlapping by REGION_SAME_OVERLAP) is
not probed again for this many frames: a notice or a patterned shirt that stays in view costs its probes (about
10 ms at 1280x720) once every ten frames, not on every frame. A code that needs the probes to be read at all,
held where such a region was, waits that many frames at most; everything else is read as before."""
REGION_SAME_OVERLAP = 0.7
"""Intersection over union above which two textured regions are taken for the same thing seen again."""
REGION_MAX_PIXELS = 250_000
"""A textured region larger than this is reduced first, which bounds every probe (a code filling a 1280x720 frame
is readable at this size)."""


# -- crops around a located symbol ------------------------------------------------------------------------------

CROP_MODULE_PX = 7.0
"""Every crop is resampled so that a module is this many pixels wide, whatever the code's size in the frame, and
every repair below works in module units at this one scale (7 read more of the benchmark's frames than 4 or 5)."""
CROP_MAX_SCALE = 4.0
CROP_MAX_PIXELS = 1_000_000
"""A resampled crop never exceeds this many pixels (a little more than one 1280x720 frame): it bounds a repair."""
CROP_MAX_COUNT = 2
"""Crops repaired per frame at most: a gate shows one code at a time, and a cluttered scene cannot run away."""
QUIET_MODULES = 12.0
"""Margin around a located whole code, in modules: the quiet zone (4) and slack for a corner located off."""
FINDER_REACH_MODULES = 100.0
"""Half the side of the crop around a lone finder pattern, in modules: a version 20 code (97 modules) plus its
quiet zone fits whichever corner the finder is (ours are version 10 to 12, EU certificates up to about 20)."""


def crop_boxes(located: list[Located], shape: tuple[int, ...]) -> list[tuple[int, int, int, int, float]]:
    """(x0, y0, x1, y1, module) boxes around located symbols, overlapping boxes merged, whole codes first."""
    boxes: list[list[float]] = []
    for symbol in sorted(located, key=lambda s: not s.whole):
        (x0, y0), (x1, y1) = symbol.corners.min(axis=0), symbol.corners.max(axis=0)
        if symbol.whole:
            pad = QUIET_MODULES * symbol.module
        else:
            x0 = x1 = (x0 + x1) / 2
            y0 = y1 = (y0 + y1) / 2
            pad = FINDER_REACH_MODULES * symbol.module
        box = [x0 - pad, y0 - pad, x1 + pad, y1 + pad, symbol.module]
        for other in boxes:
            if box[0] < other[2] and other[0] < box[2] and box[1] < other[3] and other[1] < box[3]:
                other[:] = [
                    min(box[0], other[0]),
                    min(box[1], other[1]),
                    max(box[2], other[2]),
                    max(box[3], other[3]),
                    min(box[4], other[4]),
                ]
                break
        else:
            boxes.append(box)
    height, width = shape[:2]
    return [
        (max(0, int(x0)), max(0, int(y0)), min(width, math.ceil(x1)), min(height, math.ceil(y1)), module)
        for x0, y0, x1, y1, module in boxes
    ]


def resample(crop: np.ndarray, module: float) -> np.ndarray:
    """The crop at CROP_MODULE_PX pixels per module, within CROP_MAX_SCALE and CROP_MAX_PIXELS."""
    scale = min(CROP_MODULE_PX / module, CROP_MAX_SCALE, math.sqrt(CROP_MAX_PIXELS / crop.size))
    if abs(scale - 1) < 0.05:
        return crop
    interpolation = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
    return cv2.resize(crop, None, fx=scale, fy=scale, interpolation=interpolation)


# -- repairs, on a crop at CROP_MODULE_PX pixels per module -------------------------------------------------------


def _unsharp(gray: np.ndarray, sigma: float, amount: float) -> np.ndarray:
    blurred = cv2.GaussianBlur(gray, (0, 0), sigma)
    return cv2.addWeighted(gray, 1 + amount, blurred, -amount, 0)


def _sharpen(crop: np.ndarray) -> np.ndarray:
    """Unsharp mask of half a module, amount 8: steepens the edges a defocused or dim code has lost."""
    return _unsharp(crop, 0.5 * CROP_MODULE_PX, 8.0)


_CLAHE = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))


def _equalise(crop: np.ndarray) -> np.ndarray:
    """CLAHE: local contrast evened out, so a glare spot or a veil no longer decides the binarizer's threshold."""
    return _CLAHE.apply(crop)


def _equalise_sharpen(crop: np.ndarray) -> np.ndarray:
    """CLAHE, then an unsharp mask of half a module (amount 4): both at once, for the blurred and the dim."""
    return _unsharp(_CLAHE.apply(crop), 0.5 * CROP_MODULE_PX, 4.0)


def _smooth(crop: np.ndarray) -> np.ndarray:
    """A Gaussian of a fifth of a module: melts a screen's pixel grid (moire) into the modules it draws."""
    return cv2.GaussianBlur(crop, (0, 0), 0.2 * CROP_MODULE_PX)


def _smooth_equalise_sharpen(crop: np.ndarray) -> np.ndarray:
    """A Gaussian of 0.3 module, then 'equalise+sharpen': heavy JPEG's 8x8 blocks and sensor noise are smoothed
    away before a dim, blurred code's edges are steepened (sharpening first would steepen the blocks too)."""
    return _equalise_sharpen(cv2.GaussianBlur(crop, (0, 0), 0.3 * CROP_MODULE_PX))


MOTION_MAX_ISOTROPY = 0.8
"""Below this ratio of the gradient structure tensor's eigenvalues an image counts as streaked. A QR's edges run in
two perpendicular directions alike (ratio near 1); a streak of 0.8 modules, the benchmark's shortest, gives 0.6-0.7."""
MOTION_LENGTH_BIAS = 0.9
"""The autocorrelation estimate of a streak's length runs about 10% long (lens blur adds to it); measured on the
benchmark's 180 motion-blurred frames: 1.03-1.36 times the true length, median 1.10."""


def motion_streak(gray: np.ndarray) -> tuple[float, float] | None:
    """(direction in degrees, length in pixels) of the motion streak in `gray`, or None when it is not streaked.

    Direction: the weak axis of the gradient structure tensor, since motion blur weakens the gradients along the
    motion and nothing else in a code prefers a direction (on the benchmark: within 2 degrees for half the frames,
    5.5 for 95%). Length: a streak of L pixels turns the derivative along it into the difference of two copies
    L apart, so that derivative's autocorrelation has its deepest trough at L."""
    image = gray.astype(np.float32)
    gx = cv2.Sobel(image, cv2.CV_32F, 1, 0, ksize=1)
    gy = cv2.Sobel(image, cv2.CV_32F, 0, 1, ksize=1)
    jxx, jyy, jxy = float(gx.ravel() @ gx.ravel()), float(gy.ravel() @ gy.ravel()), float(gx.ravel() @ gy.ravel())
    half_trace = (jxx + jyy) / 2
    spread = math.sqrt(max(half_trace**2 - (jxx * jyy - jxy * jxy), 0.0))
    if half_trace <= 0 or (half_trace - spread) / (half_trace + spread) >= MOTION_MAX_ISOTROPY:
        return None
    direction = (math.degrees(0.5 * math.atan2(2 * jxy, jxx - jyy)) + 90) % 180
    along = math.cos(math.radians(direction)), math.sin(math.radians(direction))
    derivative = gx * along[0] + gy * along[1]
    derivative -= float(derivative.mean())
    rows, columns = derivative.shape  # zero-padded to a size the DFT is fast for (a prime side is 20x slower)
    derivative = cv2.copyMakeBorder(
        derivative, 0, cv2.getOptimalDFTSize(rows) - rows, 0, cv2.getOptimalDFTSize(columns) - columns,
        cv2.BORDER_CONSTANT, value=0,
    )
    spectrum = cv2.dft(derivative, flags=cv2.DFT_COMPLEX_OUTPUT)
    power = cv2.mulSpectrums(spectrum, spectrum, 0, conjB=True)
    autocorrelation = cv2.idft(power, flags=cv2.DFT_REAL_OUTPUT)
    lags = np.arange(1.0, min(40.0, min(gray.shape) / 3), 0.25, dtype=np.float32)
    if lags.size == 0:
        return None
    height, width = autocorrelation.shape
    autocorrelation = np.roll(autocorrelation, (height // 2, width // 2), axis=(0, 1))  # zero lag in the centre
    map_x = (width // 2 + lags * along[0]).reshape(1, -1)
    map_y = (height // 2 + lags * along[1]).reshape(1, -1)
    profile = cv2.remap(autocorrelation, map_x, map_y, cv2.INTER_LINEAR)[0]
    return direction, MOTION_LENGTH_BIAS * float(lags[int(np.argmin(profile))])


def _streak_kernel(length_px: float, direction_deg: float) -> np.ndarray:
    """A normalised line kernel: what a point becomes when it moves `length_px` pixels during the exposure."""
    size = int(math.ceil(length_px)) | 1
    centre = (size - 1) / 2
    steps = np.linspace(-length_px / 2, length_px / 2, max(2, int(length_px * 4)))
    xs = centre + steps * math.cos(math.radians(direction_deg))
    ys = centre + steps * math.sin(math.radians(direction_deg))
    kernel = np.zeros((size + 1, size + 1), np.float32)
    x0, y0 = np.floor(xs).astype(int), np.floor(ys).astype(int)
    fx, fy = (xs - x0).astype(np.float32), (ys - y0).astype(np.float32)
    np.add.at(kernel, (y0, x0), (1 - fx) * (1 - fy))
    np.add.at(kernel, (y0, x0 + 1), fx * (1 - fy))
    np.add.at(kernel, (y0 + 1, x0), (1 - fx) * fy)
    np.add.at(kernel, (y0 + 1, x0 + 1), fx * fy)
    return kernel / kernel.sum()


def wiener(gray: np.ndarray, kernel: np.ndarray, noise_to_signal: float = 0.01) -> np.ndarray:
    """Wiener deconvolution of `gray` by `kernel` (OpenCV's DFT; edges padded by replication)."""
    pad = max(kernel.shape)
    padded = cv2.copyMakeBorder(gray, pad, pad, pad, pad, cv2.BORDER_REPLICATE).astype(np.float32)
    height, width = cv2.getOptimalDFTSize(padded.shape[0]), cv2.getOptimalDFTSize(padded.shape[1])
    image = np.zeros((height, width), np.float32)
    image[: padded.shape[0], : padded.shape[1]] = padded
    psf = np.zeros((height, width), np.float32)
    psf[: kernel.shape[0], : kernel.shape[1]] = kernel
    psf = np.roll(psf, (-(kernel.shape[0] // 2), -(kernel.shape[1] // 2)), axis=(0, 1))
    spectrum = cv2.dft(image, flags=cv2.DFT_COMPLEX_OUTPUT)
    transfer = cv2.dft(psf, flags=cv2.DFT_COMPLEX_OUTPUT)
    power = transfer[..., 0] ** 2 + transfer[..., 1] ** 2 + noise_to_signal
    restored = cv2.mulSpectrums(spectrum, transfer, 0, conjB=True) / power[..., None]
    result = cv2.idft(restored, flags=cv2.DFT_REAL_OUTPUT | cv2.DFT_SCALE)
    return np.clip(result[pad : pad + gray.shape[0], pad : pad + gray.shape[1]], 0, 255).astype(np.uint8)


MOTION_MAX_PIXELS = 250_000
"""Images larger than this are reduced before the streak is estimated and undone (two DFTs of this size take
about 20 ms here); a larger crop holds a code with big modules, which survives the reduction."""


def deblur_motion(gray: np.ndarray) -> np.ndarray | None:
    """Wiener deconvolution by the streak `motion_streak` finds; None when there is no streak to undo."""
    gray, _ = reduce_to(gray, MOTION_MAX_PIXELS)
    streak = motion_streak(gray)
    if streak is None or streak[1] < 1.0:
        return None
    direction, length = streak
    return wiener(gray, _streak_kernel(length, direction))


Repair = tuple[str, Callable[[np.ndarray], np.ndarray | None]]
DEFAULT_REPAIRS: tuple[Repair, ...] = (
    ("equalise+sharpen", _equalise_sharpen),
    ("smooth", _smooth),
    ("sharpen", _sharpen),
    ("equalise", _equalise),
    ("motion", deblur_motion),
    ("smooth+equalise+sharpen", _smooth_equalise_sharpen),
)
"""Tried in this order on each crop around a located symbol, each followed by a zxing-cpp pass, until one reads.
A repair may return None when it does not apply (no motion streak to undo).

Together they read 12-16% of the benchmark's hard frames (6 seeds of 420 frames), almost all codes located but
not decoded; leaving one out loses at most: equalise+sharpen 3 frames (it reads most of them first: defocus,
dim screens, glare), smooth 9 (moire, and blur with noise), sharpen 3, equalise 3 (glare, veils), motion 2.
The order was chosen on seeds 1 and 7 by what each adds after the ones before, then checked on 2026, 5, 11, 42.
Measured and left out: the same repairs at a second scale, 5 px per module (0-2 more frames per seed for twice
the crop work); Wiener deconvolution of a Gaussian blur (its reads overlapped the sharpening's, at several times
the cost); a perspective warp of a located code to a square (2 of 13 located-but-unread codes; most are glare).
'smooth+equalise+sharpen' came with issue 18's photo frames: it adds 5 of 480 (seeds 2026 and 7), 3 of them blur
with dim light and heavy JPEG, and none of the hard frames; it runs last, so nothing read before costs more.
Measured for issue 18 and left out: a local min/max contrast normalisation (its reads were the CLAHE repairs'),
a median filter against cracks, a grid resampled from edge phases against crumples (it did not follow the wrinkles),
zbar on the texture probes' region (1 more frame in 720 for 3 ms on every busy frame without a code).
"""


# -- a located code made square, then unbent ---------------------------------------------------------------------

SQUARE_MARGIN_MODULES = 6
"""Margin kept around a located code made square: its quiet zone and slack for corners located a little off."""
CYLINDER_ARCS = (1.0, 1.5)
"""Arcs (radians) a code is assumed to span round a bottle or a pillar when it is unbent: 57 and 86 degrees. One of
the two is near enough for zxing-cpp, whose sampling grid follows the code's alignment patterns a little, for the
benchmark's bottles (30-80 degrees: 95% of them read) and the tests' 103 degrees."""


def squared(gray: np.ndarray, symbol: Located) -> np.ndarray | None:
    """The located whole code warped from its four corners to an upright square at CROP_MODULE_PX pixels per
    module, with SQUARE_MARGIN_MODULES around it; None for a finder-pattern guess, which has no four corners.

    Steep perspective leaves zxing-cpp's finder search looking for patterns of three different sizes; made square,
    they are one size again, and the square is what `unbent` works on."""
    if not symbol.whole or symbol.modules <= 0:
        return None
    side = symbol.modules * CROP_MODULE_PX
    margin = SQUARE_MARGIN_MODULES * CROP_MODULE_PX
    target = np.float32([[0, 0], [side, 0], [side, side], [0, side]]) + margin
    homography = cv2.getPerspectiveTransform(symbol.corners.astype(np.float32), target)
    size = int(side + 2 * margin)
    return cv2.warpPerspective(gray, homography, (size, size), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


def unbent(square: np.ndarray, arc: float, axis: int) -> np.ndarray:
    """A code made square by `squared` as it would look flat, if it was printed round a cylinder whose axis runs
    along image axis `axis` (0: the columns, a bottle standing up; 1: the rows) and spans `arc` radians of it.

    The four corners keep their places; in between, a module at angle t from the middle of the code was seen
    sin(t) / sin(arc / 2) of the half-width out, so the flat image is sampled there."""
    image = square if axis == 0 else square.T
    height, width = image.shape
    half_code = (width - 2 * SQUARE_MARGIN_MODULES * CROP_MODULE_PX) / 2
    centre = width / 2
    flat = (np.arange(width, dtype=np.float32) - centre) / half_code  # -1..1 across the code
    angle = np.clip(flat * arc / 2, -math.pi / 2, math.pi / 2)
    seen = centre + half_code * np.sin(angle) / math.sin(arc / 2)
    map_x = np.broadcast_to(seen.astype(np.float32), (height, width))
    map_y = np.broadcast_to(np.arange(height, dtype=np.float32)[:, None], (height, width))
    flattened = cv2.remap(image, np.ascontiguousarray(map_x), np.ascontiguousarray(map_y), cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_REPLICATE)
    return flattened if axis == 0 else np.ascontiguousarray(flattened.T)


SquareRepair = tuple[str, Callable[[np.ndarray], np.ndarray]]
SQUARE_REPAIRS: tuple[SquareRepair, ...] = (
    ("square", lambda square: square),
    *(
        (f"unbent:{round(math.degrees(arc))}deg:{'columns' if axis == 0 else 'rows'}",
         lambda square, arc=arc, axis=axis: unbent(square, arc, axis))
        for arc in CYLINDER_ARCS
        for axis in (0, 1)
    ),
)
"""Tried on a located whole code made square (`squared`), each followed by a zxing-cpp pass, after the crop
repairs read nothing: the square itself, then unbent round a cylinder of either axis at each of CYLINDER_ARCS.
On issue 18's photo frames (480, seeds 2026 and 7) they add 9 frames, 8 of them curved (7 by unbending)."""

OUTLINE_CLOSE_MODULES = 2
OUTLINE_OPEN_MODULES = 1.3
"""The dark modules of a crop (at CROP_MODULE_PX) are merged into one blob by a closing this many modules wide, then
thin things (text, a bezel's edge) are taken off by an opening; the code's quiet zone (4 modules) keeps the blob
apart from what is around it."""
OUTLINE_SIDE_PX = 480
OUTLINE_MARGIN_PX = 60
"""The outlined code is warped to a square this large, with this margin: module size is unknown here, and zxing-cpp
reads codes up to version 20 (97 modules) at 5 pixels per module."""
OUTLINE_SEARCH_PX = 10
"""How far from the located finder pattern's centre the blob is looked for, should the centre fall in a gap."""


def outlined(crop: np.ndarray, at: tuple[float, float]) -> np.ndarray | None:
    """The code around point `at` of a crop (at CROP_MODULE_PX per module), traced by its outline and warped from
    that four-sided outline to a square; None when no four-sided outline is found there.

    A small code tilted steeply away shows its three finder patterns at very different sizes, and zxing-cpp, which
    looks for three of one size, finds one of them at most, so there are no four corners to make the code square
    by. Its outline still is a clear quadrilateral: the modules merged into one dark blob, whose convex hull comes
    down to four corners."""
    binary = cv2.adaptiveThreshold(crop, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 51, 10)
    close = round(OUTLINE_CLOSE_MODULES * CROP_MODULE_PX) | 1
    opening = round(OUTLINE_OPEN_MODULES * CROP_MODULE_PX) | 1
    blob = cv2.morphologyEx(binary, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (close, close)))
    blob = cv2.morphologyEx(blob, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (opening, opening)))
    _, labels = cv2.connectedComponents(blob)
    x, y = int(at[0]), int(at[1])
    reach = OUTLINE_SEARCH_PX
    window = labels[max(0, y - reach) : y + reach + 1, max(0, x - reach) : x + reach + 1]
    if (found := window[window > 0]).size == 0:
        return None
    mask = np.uint8(labels == np.bincount(found).argmax()) * 255
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    hull = cv2.convexHull(max(contours, key=cv2.contourArea))
    perimeter = cv2.arcLength(hull, True)
    for tolerance in (0.02, 0.04, 0.06, 0.08, 0.1):
        corners = cv2.approxPolyDP(hull, tolerance * perimeter, True).reshape(-1, 2).astype(np.float32)
        if len(corners) == 4:
            break
    else:
        return None
    if cv2.contourArea(corners) < (8 * CROP_MODULE_PX) ** 2:  # smaller than a finder pattern and its separator
        return None
    centre = corners.mean(axis=0)  # clockwise on screen from the left, as the target's corners: never a mirror image
    corners = corners[np.argsort(np.arctan2(corners[:, 1] - centre[1], corners[:, 0] - centre[0]))]
    side, margin = OUTLINE_SIDE_PX, OUTLINE_MARGIN_PX
    target = np.float32([[0, 0], [side, 0], [side, side], [0, side]]) + margin
    homography = cv2.getPerspectiveTransform(corners, target)
    size = side + 2 * margin
    return cv2.warpPerspective(crop, homography, (size, size), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


OUTLINED_REPAIRS: tuple[SquareRepair, ...] = (
    ("plain", lambda square: square),
    ("equalise+sharpen", _equalise_sharpen),
)
"""Tried on a code made square by its outline (`outlined`), each followed by a zxing-cpp pass. On issue 18's photo
frames (480, seeds 2026 and 7) they add 6 frames, 3 of them small steeply tilted codes; on the hard set (420,
seed 2026) they read 5 frames nothing before them read."""

ZBAR_MODULE_PX = 5.0
"""The last resort (zbar) is shown the crops reduced from CROP_MODULE_PX to this many pixels per module: on the
benchmark's frames (seed 2026 hard set, photo frames of seeds 2026, 7 and 42) it reads 10 frames there against 8 at
7 pixels (0 at 4 on the hard set), at half the pixels: 20-35 ms less on a frame every pass fails."""


def _for_zbar(crop: np.ndarray) -> np.ndarray:
    scale = ZBAR_MODULE_PX / CROP_MODULE_PX
    return cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)


LAST_RESORT_REPAIRS: tuple[Repair, ...] = (
    ("plain", _for_zbar),
    ("equalise+sharpen", lambda crop: _equalise_sharpen(_for_zbar(crop))),
)
"""What the Scanner's last resort (zbar) is shown of each crop around a located symbol, after everything else. On
issue 18's photo frames (480, seeds 2026 and 7) zbar adds 4 frames, damaged codes; on the hard set (420, seed
2026) it reads 3 frames nothing before it read."""
