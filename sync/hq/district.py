"""What HQ derives from the district key, the one secret it guards: each gate's key, the key typed ID numbers are
sealed to, and the key the ID numbers of its lists are kept under.

Each is derived with HKDF-SHA256 (`cryptography`) under its own label, so HQ has nothing new to back up or lose
and none of them can be turned back into the district key:
- a gate's key, per generation (`pocket-hq gates rekey` takes the next): gates hash typed numbers with it, and
  HQ hashes every list row it sends that gate with it (`id_hash`);
- HQ's X25519 sealing key: gates seal a typed number on none of their lists to its public half
  (`sync.core.sealing`), and HQ opens it on ingest to file the entry under the person's district subject;
- the list key (AES-256-GCM): HQ keeps each list row's ID number encrypted under it, because it must hash
  every row again for each gate's key, a gate enrolled later and a gate rekeyed included. Whoever holds the
  district key could find those numbers by guessing anyway (that is why it never leaves HQ), so this adds
  nothing to what the district key already opens; without it, the database alone still reveals no number.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import x25519
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sync.core.identity import normalise_id, subject_hash
from sync.core.sealing import open_sealed_id

_NONCE_BYTES = 12


class KeptIdError(Exception):
    """A kept ID number does not decrypt with this district key (another district's database, or damage)."""


def _derive(district_key: bytes, label: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=label.encode()).derive(district_key)


class DistrictSecrets:
    """The keys HQ derives from its district key (see the module docstring)."""

    def __init__(self, district_key: bytes) -> None:
        self.district_key = district_key
        self.seal_key = x25519.X25519PrivateKey.from_private_bytes(_derive(district_key, "pocket-gate/hq-seal-key/1"))
        self._lists = AESGCM(_derive(district_key, "pocket-gate/list-id-numbers/1"))

    def gate_key(self, gate_id: str, generation: int) -> bytes:
        """Gate `gate_id`'s key of this generation."""
        return _derive(self.district_key, f"pocket-gate/gate-key/1/{generation}/{gate_id}")

    def subject(self, id_number: str, doc_type: str) -> str:
        return subject_hash(self.district_key, id_number, doc_type)

    def keep_id(self, id_number: str, doc_type: str) -> str:
        """The ID number as HQ keeps it beside a list row: encrypted under the list key (base64 text)."""
        nonce = os.urandom(_NONCE_BYTES)
        message = f"{doc_type}:{normalise_id(id_number)}".encode()
        return base64.b64encode(nonce + self._lists.encrypt(nonce, message, None)).decode("ascii")

    def kept_id(self, kept: str) -> str:
        """The 'doc_type:number' message of a kept ID number (what a gate key hashes)."""
        try:
            data = base64.b64decode(kept, validate=True)
            return self._lists.decrypt(data[:_NONCE_BYTES], data[_NONCE_BYTES:], None).decode("ascii")
        except (binascii.Error, ValueError, InvalidTag, UnicodeDecodeError) as exc:
            raise KeptIdError("a list row's ID number does not decrypt with this district key") from exc

    def hasher(self, gate_id: str, generation: int) -> Callable[[str | None], str | None]:
        """Kept ID number -> its hash under the gate's key (`sync.core.identity.gate_hash`), for building that
        gate's bundle; None stays None (a row loaded before gate keys)."""
        key = self.gate_key(gate_id, generation)

        def hash_kept(kept: str | None) -> str | None:
            if kept is None:
                return None
            return hmac.digest(key, self.kept_id(kept).encode(), "sha256").hex()[:32]

        return hash_kept

    def open_seal(self, sealed: str) -> str:
        """The district subject of an ID number a gate sealed to HQ. Raises SealError."""
        doc_type, id_number = open_sealed_id(self.seal_key, sealed)
        return self.subject(id_number, doc_type)

