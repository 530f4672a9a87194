"""`pocket-kiosk idcard`: what the gate reads from photos of resident ID cards, for diagnosis; logs nothing."""

from __future__ import annotations

from pathlib import Path

import click
import cv2

from kiosk.cli.output import emit, friendly_errors
from kiosk.cli.options import json_option
from kiosk.idcard import CardReader
from sync.core.escaping import visible


@click.command()
@click.option(
    "--image",
    "images",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Photo or webcam frame of the card's name side (repeatable).",
)
@json_option
@friendly_errors
def idcard(images: tuple[Path, ...], as_json: bool) -> None:
    """Read resident ID cards from images as the kiosk reads one held to its camera (OCR, offline).

    Prints per image the number, whether its check digit is right, the name and the OCR's confidence; the
    JSON has one object per image with the fields image, number, check_digit_ok, name and confidence. Nothing
    is logged or stored. Exit status 1 when an image cannot be read or no card number is found in it."""
    reader = CardReader()
    failed = 0
    for path in images:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        record: dict[str, object] = {"image": str(path), "number": None, "check_digit_ok": False, "name": None,
                                     "confidence": 0.0}
        if image is None:
            failed += 1
            emit(record | {"error": "image cannot be read"}, as_json, f"ERROR   {visible(str(path))}: image cannot be read")
            continue
        reading = reader.read(image)
        failed += reading.number is None
        record |= {"number": reading.number, "check_digit_ok": reading.check_digit_ok, "name": reading.name,
                   "confidence": round(reading.confidence, 3)}
        if reading.problem:
            record["problem"] = reading.problem
        check = "ok" if reading.check_digit_ok else "BAD CHECK DIGIT" if reading.number else "-"
        emit(record, as_json, f"{visible(str(path))}: {reading.number or '-'} ({check})  {visible(reading.name or '-')}"
                              f"  {reading.confidence:.2f}")
    if failed:
        raise SystemExit(1)
