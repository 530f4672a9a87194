"""Identity numbers and names: hashed, checked and masked so that raw values never leave the keeper's hands.

Raw ID numbers are never stored. A keyed hash (HMAC-SHA256 with the district key, the "subject") lets HQ match
one person across gates; HQ uses it when it issues a code, so a code carries its holder's subject. Chinese ID
numbers are guessable (region, birth date, sequence: tens of millions of candidates), so whoever holds the
district key can turn every subject back into a number: it stays at HQ. A gate holds a key of its own, and
every row of its lists carries, beside the district subject, the ID's hash under that gate's key
(`gate_hash`), so a number typed at the gate finds its row; a stolen gate can test guesses against its own rows
only.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

from sync.core.secret_files import write_secret
from sync.core.i18n import _

SUBJECT_HEX_LEN = 32
"""A subject is the first 16 bytes of the HMAC, as 32 hex characters: short enough for a QR, long enough
that collisions never happen in a district."""

DISTRICT_KEY_BYTES = 32

RESIDENT_ID = "resident-id"
"""The document type whose numbers carry a check digit (GB 11643); other types are checked for form only."""

_RESIDENT_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RESIDENT_ID_CHECK = "10X98765432"


class DistrictKeyError(Exception):
    """The district key file is missing or unreadable; a readable message says which and why."""


def normalise_id(id_number: str) -> str:
    """Upper-case and strip separators so that '11010519491231002x' and '110105 19491231 002X' match."""
    if id_number.isascii() and id_number.isalnum():  # the usual case, without a look at each character
        return id_number.upper()
    return "".join(ch for ch in id_number.upper() if ch.isalnum())


def subject_hash(district_key: bytes, id_number: str, doc_type: str = "resident-id") -> str:
    """The keyed hash that stands for a person everywhere in Pocket Gate."""
    message = f"{doc_type}:{normalise_id(id_number)}".encode()
    return hmac.new(district_key, message, hashlib.sha256).hexdigest()[:SUBJECT_HEX_LEN]


def gate_hash(gate_key: bytes, id_number: str, doc_type: str = "resident-id") -> str:
    """The ID's hash under one gate's key: the subject's HMAC keyed by the gate's key instead of the district's,
    so it matches only that gate's list rows and means nothing at any other gate."""
    return subject_hash(gate_key, id_number, doc_type)


def resident_id_check_digit(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of an 18-character resident ID (GB 11643)."""
    total = sum(int(d) * w for d, w in zip(first17, _RESIDENT_ID_WEIGHTS, strict=True))
    return _RESIDENT_ID_CHECK[total % 11]


def resident_id_problem(id_number: str) -> str | None:
    """Why an 18-character resident ID number is wrong, or None when its form and check digit are right."""
    value = normalise_id(id_number)
    if len(value) != 18:
        return _("a resident ID has 18 characters, this one has {count}").format(count=len(value))
    if not value[:17].isdigit():
        return _("the first 17 characters of a resident ID are digits")
    if value[17] != resident_id_check_digit(value[:17]):
        return _("the check digit does not match: the number was mistyped")
    return None


def document_problem(id_number: str, doc_type: str) -> str | None:
    """Why a typed document number cannot be right, or None."""
    if doc_type == RESIDENT_ID:
        return resident_id_problem(id_number)
    value = normalise_id(id_number)
    if not 5 <= len(value) <= 32:
        return _("a {kind} number has 5 to 32 letters and digits, this one has {count}").format(
            kind=doc_type, count=len(value)
        )
    return None


def mask_name(name: str) -> str:
    """Keep the first character of each word and hide the rest, so a keeper can tell people apart but a
    screen or a log shows no full name ('Zhang San' -> 'Z**** S**', '张三' -> '张*')."""
    words = name.split()
    if not words:
        return ""
    if len(words) == 1:
        return words[0][0] + "*" * max(len(words[0]) - 1, 1)
    return " ".join(w[0] + "*" * (len(w) - 1) for w in words)


def create_district_key(path: Path) -> bytes:
    """Write a new random district key (hex) readable only by its owner; refuse to overwrite one."""
    key = secrets.token_bytes(DISTRICT_KEY_BYTES)
    try:
        write_secret(path, (key.hex() + "\n").encode("ascii"))
    except FileExistsError as exc:
        raise DistrictKeyError(f"{path} already exists; a district key is never overwritten") from exc
    return key


def load_district_key(path: Path) -> bytes:
    """Read a district key written by `create_district_key`."""
    try:
        text = path.read_text().strip()
    except OSError as exc:
        raise DistrictKeyError(f"cannot read the district key {path}: {exc.strerror}") from exc
    try:
        key = bytes.fromhex(text)
    except ValueError as exc:
        raise DistrictKeyError(f"{path} does not hold a hex district key") from exc
    if len(key) < 16:
        raise DistrictKeyError(f"{path} holds a district key of {len(key)} bytes; at least 16 are needed")
    return key
