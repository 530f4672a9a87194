"""Make the demo's sample frames and lists through the project's real issuing path.

    .venv/bin/python -m kiosk.demo.generate            # rewrites kiosk/demo/data/

A fresh issuer key pair signs every code with `sync.core.codes.pgc.issue_code` (what `pocket-hq issue` calls),
names are masked and ID numbers hashed exactly as HQ does, and each QR is drawn with segno on a phone-like
screen in a 640x480 frame. Only the public key and the district key are kept: the private key is thrown away,
so nobody can issue more "demo" codes. Codes stay valid for ten years (the CLI caps validity at a year, which
is why this calls the issuing function directly); the expired one was issued and expired in 2024.

The same functions make fresh codes in tests (`issue_frames`), so tests and demo cannot drift apart.
"""

from __future__ import annotations

import argparse
import io
import json
import shutil
import tempfile
import zlib
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import base45
import cbor2
import cv2
import numpy as np
import segno

from sync.core.codes import Colour
from sync.core.codes.keys import DISTRICT_KEY_FILE, TRUST_SUBDIR, create_issuer_keys, load_issuer_key
from sync.core.codes.pgc import PREFIX, PRIVATE_CLAIM, issue_code
from sync.core.identity import load_district_key, mask_name, resident_id_check_digit, subject_hash

DATA = Path(__file__).resolve().parent / "data"
VALID_FOR = timedelta(days=3652)
FRAME_SIZE = (640, 480)


def demo_id(serial: int) -> str:
    """A well-formed resident ID for a made-up person (Beijing Dongcheng, born 1990-01-01)."""
    first17 = f"11010119900101{serial % 1000:03d}"
    return first17 + resident_id_check_digit(first17)


@dataclass(frozen=True)
class Person:
    """One sample person and what the demo gate should decide about them."""

    file: str
    what: str
    name: str
    serial: int
    colour: Colour
    expect: str
    """'pass', 'hold' or 'refuse' under the demo policy."""
    reason: str
    """A reason the verdict must give (substring)."""
    resident: bool = True
    hq_pass: str = ""
    listed: str = ""
    expired: bool = False
    forged: bool = False
    mask: bool = True
    """Mask the name as HQ does; False puts it in the code as given (like `pocket-hq issue --no-mask`)."""


PEOPLE = (
    Person("01-green-resident.png", "resident, green code", "Zhang San", 1, Colour.GREEN, "pass", "resident"),
    Person("02-yellow-resident.png", "resident, yellow code", "Li Si", 2, Colour.YELLOW, "hold", "yellow code"),
    Person("03-red-resident.png", "resident, red code", "Wang Wu", 3, Colour.RED, "refuse", "red code"),
    Person(
        "04-forged.png", "red code altered to green", "Zhao Liu", 4, Colour.RED, "refuse", "forged", forged=True
    ),
    Person("05-expired.png", "expired green code", "Sun Qi", 5, Colour.GREEN, "refuse", "expired", expired=True),
    Person(
        "06-visitor-no-pass.png",
        "visitor without an HQ pass",
        "Zhou Ba",
        6,
        Colour.GREEN,
        "refuse",
        "no valid pass",
        resident=False,
    ),
    Person(
        "07-courier-with-pass.png",
        "courier with an HQ pass",
        "Wu Jiu",
        7,
        Colour.GREEN,
        "pass",
        "courier pass",
        resident=False,
        hq_pass="courier",
    ),
    Person(
        "08-red-listed.png",
        "green code, but on HQ's red list",
        "Qian Shi",
        8,
        Colour.GREEN,
        "refuse",
        "red list",
        listed="red",
    ),
)
MANUAL_RESIDENT = ("Chen Yi", 9)
"""A resident with no phone code: the demo's hint for trying manual entry."""


def _issue(keys: Path, person: Person, now: datetime) -> str:
    key = load_issuer_key(keys)
    district_key = load_district_key(keys / DISTRICT_KEY_FILE)
    issued_at = datetime(2024, 1, 1, 8, tzinfo=UTC) if person.expired else now
    expires_at = issued_at + (timedelta(hours=24) if person.expired else VALID_FOR)
    text = issue_code(
        key,
        issuer="demo-district-hq",
        subject=subject_hash(district_key, demo_id(person.serial)),
        name=mask_name(person.name) if person.mask else person.name,
        colour=person.colour,
        issued_at=issued_at,
        expires_at=expires_at,
    )
    return forge_green(text) if person.forged else text


def forge_green(text: str) -> str:
    """What a forger does: change the colour inside a genuine code and keep its signature."""
    message = cbor2.loads(zlib.decompress(base45.b45decode(text[len(PREFIX) :])))
    protected, unprotected, payload, signature = message.value
    claims = cbor2.loads(payload)
    claims[PRIVATE_CLAIM][2] = Colour.GREEN.value
    message.value = [protected, unprotected, cbor2.dumps(claims), signature]
    return PREFIX + base45.b45encode(zlib.compress(cbor2.dumps(message), 9)).decode("ascii")


def draw_frame(text: str, caption: str) -> np.ndarray:
    """A 640x480 camera frame: a phone screen showing the QR, with a caption under it."""
    width, height = FRAME_SIZE
    frame = np.full((height, width, 3), (92, 104, 96), np.uint8)
    cv2.rectangle(frame, (180, 28), (460, 420), (40, 40, 40), -1)
    cv2.rectangle(frame, (194, 60), (446, 390), (245, 245, 245), -1)
    qr = segno.make(text, error="m")
    scale = max(2, 240 // qr.symbol_size(border=4)[0])
    image = cv2.imdecode(np.frombuffer(_png_bytes(qr, scale), np.uint8), cv2.IMREAD_COLOR)
    side = image.shape[0]
    x, y = 320 - side // 2, 225 - side // 2
    frame[y : y + side, x : x + side] = image
    cv2.putText(frame, caption, (24, 458), cv2.FONT_HERSHEY_SIMPLEX, 0.7, (255, 255, 255), 2, cv2.LINE_AA)
    return frame


def _png_bytes(qr: segno.QRCode, scale: int) -> bytes:
    out = io.BytesIO()
    qr.save(out, kind="png", scale=scale, border=4)
    return out.getvalue()


def issue_frames(keys: Path, out: Path, people: tuple[Person, ...] = PEOPLE, now: datetime | None = None) -> list[str]:
    """Issue each person's code with the keys in `keys` and write their frames to `out`; return the texts."""
    moment = now or datetime.now(UTC)
    out.mkdir(parents=True, exist_ok=True)
    texts = []
    for person in people:
        text = _issue(keys, person, moment)
        caption = f"{person.file[:2]}  {person.what}"
        if not cv2.imwrite(str(out / person.file), draw_frame(text, caption)):
            raise OSError(f"cannot write {out / person.file}")
        texts.append(text)
    return texts


def write_lists(out: Path, people: tuple[Person, ...] = PEOPLE, now: datetime | None = None) -> None:
    """roster.csv, passes.csv and colour_list.csv with raw demo ID numbers (hashed when the demo loads them).
    Each household on the roster has a made-up phone (1380000, then its serial), for visitors' hosts."""
    moment = now or datetime.now(UTC)
    name, serial = MANUAL_RESIDENT
    serials = [(p.serial, p.name) for p in people if p.resident] + [(serial, name)]
    (out / "roster.csv").write_text(
        "id_number,name,unit,phone\n"
        + "".join(f"{demo_id(s)},{n},{s}-{s + 1}01,1380000{s:04d}\n" for s, n in serials),
        encoding="utf-8",
    )
    start, until = moment.replace(microsecond=0), (moment + VALID_FOR).replace(microsecond=0)
    (out / "passes.csv").write_text(
        "id_number,kind,valid_from,valid_until\n"
        + "".join(
            f"{demo_id(p.serial)},{p.hq_pass},{start.isoformat()},{until.isoformat()}\n" for p in people if p.hq_pass
        ),
        encoding="utf-8",
    )
    (out / "colour_list.csv").write_text(
        "id_number,colour,note\n"
        + "".join(f"{demo_id(p.serial)},{p.listed},close contact\n" for p in people if p.listed),
        encoding="utf-8",
    )


ID_CARD_FRAME = "09-idcard.jpg"
"""A resident ID card (the manual resident's) held up to the camera, after the codes: the demo reads it (`c`)."""
ID_CARD_NAME = "陈依"


def write_card_frame(out: Path) -> None:
    """The ID card frame, drawn by `kiosk.demo.idcard_image` (Pillow and a CJK font: a developer's tools)."""
    from kiosk.demo.idcard_image import CardFace, Holding, held_frame

    face = CardFace(ID_CARD_NAME, demo_id(MANUAL_RESIDENT[1]))
    image = held_frame(face, Holding(angle=4, brightness=0.9))
    if not cv2.imwrite(str(out / ID_CARD_FRAME), image, [cv2.IMWRITE_JPEG_QUALITY, 85]):
        raise OSError(f"cannot write {out / ID_CARD_FRAME}")


POLICY = """\
# The demo gate's policy: the field defaults, except that a yellow code is held for a check (some districts
# do this), so that the demo shows every kind of verdict: pass (green), hold (amber) and refuse (red).

[colours]
yellow = "hold"
"""


def generate(out: Path = DATA, keys: Path | None = None) -> None:
    """Rewrite the demo data folder: keys, frames, lists, policy and a manifest the tests read.

    With `keys` (an existing `pocket-hq keys init` folder) those keys sign the codes and stay usable for
    issuing more; without, a throw-away issuer key is made and only its public half kept."""
    now = datetime.now(UTC)
    with tempfile.TemporaryDirectory() as tmp:
        if keys is None:
            keys = Path(tmp) / "keys"
            create_issuer_keys(keys)
        if out.exists():
            shutil.rmtree(out)
        (out / TRUST_SUBDIR).mkdir(parents=True)
        for pem in (keys / TRUST_SUBDIR).iterdir():
            shutil.copy(pem, out / TRUST_SUBDIR / pem.name)
        shutil.copy(keys / DISTRICT_KEY_FILE, out / DISTRICT_KEY_FILE)
        issue_frames(keys, out / "frames", now=now)
        write_card_frame(out / "frames")
    write_lists(out, now=now)
    (out / "policy.toml").write_text(POLICY, encoding="utf-8")
    manifest = {
        "generated_at": now.isoformat(timespec="seconds"),
        "valid_until": (now + VALID_FOR).isoformat(timespec="seconds"),
        "manual_resident": {"name": MANUAL_RESIDENT[0], "id_number": demo_id(MANUAL_RESIDENT[1])},
        "id_card": {"file": ID_CARD_FRAME, "name": ID_CARD_NAME, "id_number": demo_id(MANUAL_RESIDENT[1])},
        "frames": [asdict(p) | {"colour": p.colour.value, "id_number": demo_id(p.serial)} for p in PEOPLE],
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DATA, help="Folder to (re)write (default: the package's).")
    args = parser.parse_args()
    generate(args.out)
    print(f"demo data written to {args.out}")


if __name__ == "__main__":
    main()
