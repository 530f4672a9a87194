"""The trust SMART Health Cards need: issuers' ES256 keys (a JWKS, or a directory of issuers with their JWKS), each
looked up by its JWK thumbprint and bound to the issuer URL its cards carry, and the revoked card ids (`rid`s)
of each key's revocation list."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Self

from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from sync.core.codes.trust import DocumentPart, TrustError, TrustParser

ISSUER_KEY = "SMART Health Card issuer key"
REVOKED = "revoked SMART Health Card id"
"""What a summary counts these as."""


@dataclass(frozen=True)
class ShcKey:
    """A SMART Health Card issuer's ES256 public key."""

    kid: str
    """The RFC 7638 thumbprint of the key (base64url), which is what cards name."""
    key: ECKey = field(compare=False)
    issuer: str | None = None
    """The `iss` its cards must carry; None when the file named no issuer (only `check --trust FILE`)."""
    label: str = field(default="", compare=False)


class ShcIssuers:
    """The SMART Health Card section of a trust list."""

    def __init__(self) -> None:
        self._keys: dict[str, list[ShcKey]] = defaultdict(list)
        self._revoked: dict[str, dict[str, datetime | None]] = defaultdict(dict)

    def __len__(self) -> int:
        return sum(map(len, self._keys.values()))

    def keys(self, kid: str) -> list[ShcKey]:
        """Every issuer key with this thumbprint (one per issuer it is bound to)."""
        return list(self._keys.get(kid, ()))

    def revoked(self, kid: str, rid: str, issued_at: datetime) -> bool:
        """Whether the card with this revocation id, signed by `kid` at `issued_at`, is revoked. A revocation
        entry `rid.timestamp` revokes only cards issued before that time."""
        entries = self._revoked.get(kid)
        if not entries or rid not in entries:
            return False
        before = entries[rid]
        return before is None or issued_at < before

    def add_key(self, key: ShcKey) -> None:
        if key not in self._keys[key.kid]:
            self._keys[key.kid].append(key)

    def revoke(self, kid: str, rid: str, before: datetime | None) -> None:
        self._revoked[kid][rid] = before

    def merge(self, other: Self) -> None:
        for keys in other._keys.values():
            for key in keys:
                self.add_key(key)
        for kid, rids in other._revoked.items():
            self._revoked[kid].update(rids)

    def storage_problem(self) -> str | None:
        """A gate keeps no key bound to no issuer: it could not tell whose cards the key may sign."""
        if any(key.issuer is None for keys in self._keys.values() for key in keys):
            return "this JWKS names no issuer, so gates could not tell whose cards it signs"
        return None


def _issuer_url(iss: Any, where: str) -> str:
    if not isinstance(iss, str) or not iss.startswith("https://") or iss.endswith("/") or len(iss) > 512:
        raise TrustError(f"{where}: an issuer is an https:// URL without a trailing slash")
    return iss


def _add_jwks(document: dict[str, Any], iss: str | None, where: str, part: DocumentPart) -> None:
    keys = document.get("keys")
    if not isinstance(keys, list):
        raise TrustError(f"{where}: `keys` is not a list")
    issuers = part.section(ShcIssuers)
    for number, raw in enumerate(keys, start=1):
        key_where = f"{where} key {number}"
        if not isinstance(raw, dict):
            raise TrustError(f"{key_where}: not a JSON object")
        if raw.get("kty") != "EC" or raw.get("crv") != "P-256" or raw.get("use", "sig") != "sig":
            part.summary.skipped.append(f"{key_where}: not an ES256 signing key")
            continue
        if "d" in raw:
            raise TrustError(f"{key_where}: holds a private key; give gates only the public JWKS")
        try:
            key = ECKey.import_key(raw)
        except (JoseError, ValueError, TypeError) as exc:
            raise TrustError(f"{key_where}: not a valid P-256 key ({exc})") from exc
        thumbprint = key.thumbprint()
        if raw.get("kid", thumbprint) != thumbprint:
            raise TrustError(f"{key_where}: its kid is not its JWK thumbprint, as SMART Health Cards require")
        issuers.add_key(ShcKey(kid=thumbprint, key=key, issuer=iss, label=where))
        part.summary.add(ISSUER_KEY)
    for crl in document.get("crls") or []:
        _add_crl(crl, where, part)


def _add_crl(crl: Any, where: str, part: DocumentPart) -> None:
    if not isinstance(crl, dict) or not isinstance(crl.get("kid"), str) or not isinstance(crl.get("rids"), list):
        raise TrustError(f"{where}: a revocation list needs `kid` and `rids`")
    if crl.get("method", "rid") != "rid":
        part.summary.skipped.append(f"{where}: revocation method {crl.get('method')!r} is not supported")
        return
    issuers = part.section(ShcIssuers)
    for entry in crl["rids"]:
        if not isinstance(entry, str) or not entry:
            raise TrustError(f"{where}: revoked ids are non-empty strings")
        rid, _, stamp = entry.partition(".")
        before: datetime | None = None
        if stamp:
            try:
                if not stamp.isdigit() or len(stamp) > 12:
                    raise ValueError(stamp)
                before = datetime.fromtimestamp(int(stamp), UTC)
            except (ValueError, OverflowError, OSError) as exc:  # past the year 9999 too
                raise TrustError(f"{where}: revoked id {entry[:40]!r} has a bad timestamp") from exc
        issuers.revoke(crl["kid"], rid, before)
        part.summary.add(REVOKED)


def _read_jwks(document: dict[str, Any], part: DocumentPart) -> bool:
    iss = document.get("iss", part.issuer)
    _add_jwks(document, _issuer_url(iss, part.where) if iss is not None else None, part.where, part)
    return True


def _read_directory(document: dict[str, Any], part: DocumentPart) -> bool:
    issuers = document["participating_issuers"]
    if not isinstance(issuers, list):
        raise TrustError(f"{part.where}: participating_issuers is not a list")
    for number, entry in enumerate(issuers, start=1):
        if not isinstance(entry, dict) or not isinstance(entry.get("issuer"), dict):
            raise TrustError(f"{part.where}: issuer {number} has no issuer object")
        iss = _issuer_url(entry["issuer"].get("iss"), f"{part.where} issuer {number}")
        _add_jwks(entry, iss, f"{part.where} [{iss}]", part)
    return True


def _read_crl(document: dict[str, Any], part: DocumentPart) -> bool:
    _add_crl(document, part.where, part)
    return True


PARSERS = (
    TrustParser("json", "keys", "jwks", "a JWKS", _read_jwks),
    TrustParser("json", "participating_issuers", "shc-directory", "an issuer directory", _read_directory),
    TrustParser("json", "rids", "shc-crl", "a revocation list", _read_crl),
)
"""A JWKS (its `iss`, or the issuer it is imported for), a directory of participating issuers, and a revocation
list on its own."""
