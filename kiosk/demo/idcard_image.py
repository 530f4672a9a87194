"""Synthetic resident ID cards (居民身份证, the side with the name and number) and webcam frames of them held up to
the camera, for the demo, the tests and `bench/idcard_bench.py`.

The card is drawn with Pillow in Noto Sans CJK (Debian's fonts-noto-cjk, which ./install.sh installs) with the
real card's layout: small labels (姓名, 性别, 民族, 出生, 住址, 公民身份号码), the values beside them, a photo box,
and the 18-character number along the bottom. `held_frame` puts it into a 1280x720 webcam frame as a keeper
holds it: turned, tilted, near or far, in dim light or with a glare spot, blurred and JPEG-compressed.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

CJK_FONTS = (
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Medium.ttc"),
)
CARD_SIZE = (856, 540)
"""Pixels of the flat card: 85.6 x 54 mm, as ISO/IEC 7810 ID-1."""
FRAME_SIZE = (1280, 720)
INK = (30, 30, 30)
LABEL = (40, 90, 160)


class FontMissing(RuntimeError):
    """No CJK font to draw a card with: `apt-get install fonts-noto-cjk`."""


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    for path in CJK_FONTS:
        if path.exists():
            return ImageFont.truetype(str(path), size, index=2)  # index 2: Simplified Chinese (SC)
    raise FontMissing("no Noto Sans CJK font: apt-get install fonts-noto-cjk")


@dataclass(frozen=True)
class CardFace:
    name: str
    number: str
    sex: str = "男"
    ethnicity: str = "汉"
    address: str = "北京市东城区景山前街4号"


def card_image(face: CardFace) -> np.ndarray:
    """The card, flat and sharp, as a BGR image of CARD_SIZE."""
    width, height = CARD_SIZE
    card = Image.new("RGB", CARD_SIZE, (236, 240, 236))
    draw = ImageDraw.Draw(card)
    for y in range(0, height, 6):  # the faint guilloche-like background of the real card
        draw.line([(0, y), (width, y + 40)], fill=(226, 232, 230), width=1)
    label, value, number = _font(26), _font(34), _font(38)
    rows = [("姓  名", face.name, 60), ("性  别", face.sex + "        民  族  " + face.ethnicity, 130),
            ("出  生", f"{face.number[6:10]} 年 {int(face.number[10:12])} 月 {int(face.number[12:14])} 日", 200)]
    for caption, text, y in rows:
        draw.text((50, y + 6), caption, font=label, fill=LABEL)
        draw.text((170, y), text, font=value, fill=INK)
    draw.text((50, 276), "住  址", font=label, fill=LABEL)
    draw.text((170, 270), face.address[:11], font=value, fill=INK)
    draw.text((170, 320), face.address[11:22], font=value, fill=INK)
    draw.text((50, 450), "公民身份号码", font=label, fill=LABEL)
    draw.text((250, 440), "".join(face.number), font=number, fill=INK)
    draw.rectangle([(600, 60), (800, 330)], fill=(205, 212, 220))  # the photo
    draw.ellipse([(655, 100), (745, 200)], fill=(170, 176, 186))
    draw.rounded_rectangle([(620, 210), (780, 330)], radius=40, fill=(170, 176, 186))
    return cv2.cvtColor(np.asarray(card), cv2.COLOR_RGB2BGR)


@dataclass(frozen=True)
class Holding:
    """How the card is held up to the webcam."""

    scale: float = 0.75
    """The card's width as a share of the frame's height (near: 1.0+; far: 0.5)."""
    angle: float = 0.0
    """Turned in the picture plane, degrees."""
    tilt: float = 0.0
    """Leaned back (perspective), as a share of the card's height."""
    brightness: float = 1.0
    """1: office light; 0.4: a dim gate at night."""
    glare: float = 0.0
    """Strength of a white glare spot (0: none; 1: burnt white at its centre)."""
    blur: int = 0
    """Gaussian blur kernel (odd; 0: sharp)."""
    jpeg: int = 0
    """JPEG quality the webcam compresses to (0: none)."""


def held_frame(face: CardFace, holding: Holding = Holding(), seed: int = 0) -> np.ndarray:
    """A BGR webcam frame (FRAME_SIZE) showing the card as held."""
    rng = np.random.default_rng(seed)
    card = card_image(face)
    fw, fh = FRAME_SIZE
    frame = np.full((fh, fw, 3), (96, 104, 110), np.uint8)
    frame = cv2.add(frame, rng.integers(0, 18, (fh, fw, 3), dtype=np.uint8))
    ch, cw = card.shape[:2]
    width = holding.scale * fh
    height = width * ch / cw
    centre = np.array([fw / 2, fh / 2])
    lean = holding.tilt * height
    corners = np.array(
        [[-width / 2 + lean / 2, -height / 2], [width / 2 - lean / 2, -height / 2], [width / 2, height / 2],
         [-width / 2, height / 2]]
    )
    theta = np.deg2rad(holding.angle)
    turn = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    target = (corners @ turn.T + centre).astype(np.float32)
    source = np.array([[0, 0], [cw, 0], [cw, ch], [0, ch]], np.float32)
    matrix = cv2.getPerspectiveTransform(source, target)
    warped = cv2.warpPerspective(card, matrix, FRAME_SIZE)
    mask = cv2.warpPerspective(np.full((ch, cw), 255, np.uint8), matrix, FRAME_SIZE)
    frame[mask > 0] = warped[mask > 0]
    image = frame.astype(np.float32) * holding.brightness
    if holding.glare:
        gx, gy = centre + rng.uniform(-0.25, 0.25, 2) * np.array([width, height])
        ys, xs = np.mgrid[0:fh, 0:fw]
        spot = np.exp(-((xs - gx) ** 2 + (ys - gy) ** 2) / (2 * (0.12 * width) ** 2))
        image += (255 * holding.glare * spot)[..., None]
    image += rng.normal(0, 3 + 4 * (1 - holding.brightness), image.shape)
    frame = np.clip(image, 0, 255).astype(np.uint8)
    if holding.blur:
        frame = cv2.GaussianBlur(frame, (holding.blur, holding.blur), 0)
    if holding.jpeg:
        _, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, holding.jpeg])
        frame = cv2.imdecode(encoded, cv2.IMREAD_COLOR)
    return frame
