"""Standard health certificates made for tests: our own CSCA and document signers (`cryptography`), EU DCCs
signed with them (python-cwt), SMART Health Card issuers with their JWKS (joserfc) and cards, all renderable
as QR frames (segno) the real scanner reads.

Nothing here is used by the gate: it plays the national authorities and health-card issuers whose
certificates visitors bring. Run `python -m tests.standards_certs DIR` to write a demo set (trust files and
PNG frames) for trying `pocket-kiosk check` and `scan` by hand.
"""

from __future__ import annotations

import json
import sys
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import base45
import cbor2
import cv2
import numpy as np
import segno
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cwt import COSE, COSEKey
from joserfc import jws
from joserfc.jwk import ECKey
from segno import consts

from sync.core.codes.shc import _REGISTRY as SHC_JWS_REGISTRY
from sync.core.codes.shc import jws_to_numeric
from sync.core.codes.hcert_trust import certificate_kid

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
"""The moment tests judge at: certificates are made relative to it."""
EKU_TEST = "1.3.6.1.4.1.1847.2021.1.1"
EKU_VACCINATION = "1.3.6.1.4.1.1847.2021.1.2"
EKU_RECOVERY = "1.3.6.1.4.1.1847.2021.1.3"
NAA = "LP6464-4"
RAPID = "LP217198-3"
NOT_DETECTED = "260415000"
DETECTED = "260373001"
COVID_19 = "840539006"
SHC_ISS = "https://health.example.org/issuer"

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


# -- EU DCC: CSCA, document signers, certificates ------------------------------------------------------------


def _name(common_name: str, country: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(x509.NameOID.COUNTRY_NAME, country),
            x509.NameAttribute(x509.NameOID.COMMON_NAME, common_name),
        ]
    )


@dataclass(frozen=True)
class Csca:
    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey
    country: str


def make_csca(country: str = "XA") -> Csca:
    """A country signing CA, self-signed, valid ten years around NOW."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(f"CSCA {country}", country)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - timedelta(days=5 * 365))
        .not_valid_after(NOW + timedelta(days=5 * 365))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    return Csca(certificate, key, country)


@dataclass(frozen=True)
class DocumentSignerKeys:
    """A DSC and its private key, ready to sign DCCs."""

    certificate: x509.Certificate
    key: PrivateKey
    alg: int
    """COSE algorithm: -7 ES256, -37 PS256."""

    @property
    def kid(self) -> bytes:
        return certificate_kid(self.certificate)

    def pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)

    def der(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.DER)

    def cose_key(self) -> COSEKey:
        pem = self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        return COSEKey.from_pem(pem, alg="PS256" if self.alg == -37 else "ES256", kid=self.kid)


def make_dsc(
    csca: Csca,
    *,
    usages: Iterable[str] | None = None,
    not_before: datetime | None = None,
    not_after: datetime | None = None,
    algorithm: Literal["ES256", "PS256"] = "ES256",
    common_name: str = "DSC 1",
) -> DocumentSignerKeys:
    """A document signer issued by `csca`, valid a year around NOW unless told; `usages` are extended key
    usage OIDs (None: no extension, so it may sign every entry type)."""
    key: PrivateKey = (
        ec.generate_private_key(ec.SECP256R1()) if algorithm == "ES256" else rsa.generate_private_key(65537, 2048)
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name, csca.country))
        .issuer_name(csca.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before or NOW - timedelta(days=180))
        .not_valid_after(not_after or NOW + timedelta(days=180))
    )
    if usages is not None:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([x509.ObjectIdentifier(oid) for oid in usages]), critical=False
        )
    certificate = builder.sign(csca.key, hashes.SHA256())
    return DocumentSignerKeys(certificate, key, -37 if algorithm == "PS256" else -7)


def dcc_test_entry(
    sampled_at: datetime = NOW - timedelta(hours=5), *, tt: str = NAA, tr: str = NOT_DETECTED, tg: str = COVID_19
) -> dict[str, Any]:
    entry = {
        "tg": tg,
        "tt": tt,
        "sc": sampled_at.isoformat().replace("+00:00", "Z"),
        "tr": tr,
        "tc": "Test Centre Nord",
        "co": "XA",
        "is": "Ministry of Health XA",
        "ci": "URN:UVCI:01:XA:TEST1234#1",
    }
    entry["nm" if tt == NAA else "ma"] = "PCR kit" if tt == NAA else "1232"
    return entry


LAST_DOSE = (NOW - timedelta(days=30)).date()
RECOVERY_FROM = (NOW - timedelta(days=10)).date()
RECOVERY_UNTIL = (NOW + timedelta(days=170)).date()


def vaccination_entry(dn: int = 2, sd: int = 2, dt: date = LAST_DOSE) -> dict[str, Any]:
    return {
        "tg": COVID_19,
        "vp": "1119349007",
        "mp": "EU/1/20/1528",
        "ma": "ORG-100030215",
        "dn": dn,
        "sd": sd,
        "dt": dt.isoformat(),
        "co": "XA",
        "is": "Ministry of Health XA",
        "ci": "URN:UVCI:01:XA:VAC5678#2",
    }


def recovery_entry(df: date = RECOVERY_FROM, du: date = RECOVERY_UNTIL) -> dict[str, Any]:
    return {
        "tg": COVID_19,
        "fr": (df - timedelta(days=11)).isoformat(),
        "co": "XA",
        "is": "Ministry of Health XA",
        "df": df.isoformat(),
        "du": du.isoformat(),
        "ci": "URN:UVCI:01:XA:REC9012#3",
    }


def dcc_payload(group: str = "t", entries: list[dict[str, Any]] | None = None, **fields: Any) -> dict[str, Any]:
    """A DCC v1.3 object with one group of entries (one test entry by default); `fields` override any top-level
    field (e.g. `nam=...`, or extra groups for multi-entry cases)."""
    default_entry = {"t": dcc_test_entry, "v": vaccination_entry, "r": recovery_entry}[group]()
    payload: dict[str, Any] = {
        "ver": "1.3.0",
        "nam": {"fn": "Musterfrau", "fnt": "MUSTERFRAU", "gn": "Erika", "gnt": "ERIKA"},
        "dob": "1964-08-12",
        group: entries if entries is not None else [default_entry],
    }
    return payload | fields


def sign_dcc(
    signer: DocumentSignerKeys,
    payload: Any,
    *,
    iat: datetime = NOW - timedelta(hours=4),
    exp: datetime = NOW + timedelta(days=2),
    iss: str = "XA",
    kid_in: Literal["protected", "unprotected", "none"] = "protected",
    claims: dict[Any, Any] | None = None,
) -> bytes:
    """The COSE_Sign1 bytes of a DCC (`claims` replaces the CWT claims map whole, for malformed cases)."""
    body = (
        claims if claims is not None else {1: iss, 6: int(iat.timestamp()), 4: int(exp.timestamp()), -260: {1: payload}}
    )
    protected: dict[int, Any] = {1: signer.alg}
    unprotected: dict[int, Any] = {}
    if kid_in == "protected":
        protected[4] = signer.kid
    elif kid_in == "unprotected":
        unprotected[4] = signer.kid
    return COSE.new().encode_and_sign(
        cbor2.dumps(body), signer.cose_key(), protected=protected, unprotected=unprotected
    )


def hc1(cose: bytes) -> str:
    """The QR text of signed COSE bytes: HC1: + base45(zlib(...))."""
    return "HC1:" + base45.b45encode(zlib.compress(cose, 9)).decode("ascii")


def issue_dcc(signer: DocumentSignerKeys, payload: Any | None = None, **kwargs: Any) -> str:
    return hc1(sign_dcc(signer, payload if payload is not None else dcc_payload(), **kwargs))


# -- SMART Health Cards --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ShcIssuer:
    iss: str
    key: ECKey
    """The private signing key."""

    @property
    def kid(self) -> str:
        return self.key.thumbprint()

    def public_jwk(self) -> dict[str, Any]:
        return self.key.as_dict(private=False) | {"kid": self.kid, "use": "sig", "alg": "ES256"}

    def jwks(self, *, with_iss: bool = True, crls: list[dict[str, Any]] | None = None) -> dict[str, Any]:
        document: dict[str, Any] = {"keys": [self.public_jwk()]}
        if with_iss:
            document["iss"] = self.iss
        if crls:
            document["crls"] = crls
        return document

    def crl(self, rids: list[str]) -> dict[str, Any]:
        return {"kid": self.kid, "method": "rid", "ctr": 1, "rids": rids}


def make_shc_issuer(iss: str = SHC_ISS) -> ShcIssuer:
    return ShcIssuer(iss, ECKey.generate_key("P-256", private=True))


def patient(given: str = "Jane", family: str = "Doe") -> dict[str, Any]:
    return {"resourceType": "Patient", "name": [{"family": family, "given": [given]}], "birthDate": "1960-01-20"}


def immunization(on: date, cvx: str = "207") -> dict[str, Any]:
    return {
        "resourceType": "Immunization",
        "status": "completed",
        "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": cvx}]},
        "patient": {"reference": "resource:0"},
        "occurrenceDateTime": on.isoformat(),
        "lotNumber": "0000001",
    }


def lab_result(
    sampled_at: datetime = NOW - timedelta(hours=5), *, loinc: str = "94500-6", result: str = "260385009"
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": loinc}]},
        "subject": {"reference": "resource:0"},
        "effectiveDateTime": sampled_at.isoformat().replace("+00:00", "Z"),
        "valueCodeableConcept": {"coding": [{"system": "http://snomed.info/sct", "code": result}]},
    }


def shc_payload(
    resources: list[dict[str, Any]] | None = None,
    *,
    iss: str = SHC_ISS,
    nbf: datetime = NOW - timedelta(days=1),
    exp: datetime | None = None,
    rid: str | None = None,
) -> dict[str, Any]:
    """A health card: a patient and, by default, two COVID-19 vaccine doses."""
    if resources is None:
        resources = [
            patient(),
            immunization((NOW - timedelta(days=60)).date()),
            immunization((NOW - timedelta(days=30)).date()),
        ]
    vc: dict[str, Any] = {
        "type": ["https://smarthealth.cards#health-card"],
        "credentialSubject": {
            "fhirVersion": "4.0.1",
            "fhirBundle": {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [{"fullUrl": f"resource:{i}", "resource": r} for i, r in enumerate(resources)],
            },
        },
    }
    if rid is not None:
        vc["rid"] = rid
    payload: dict[str, Any] = {"iss": iss, "nbf": int(nbf.timestamp()), "vc": vc}
    if exp is not None:
        payload["exp"] = int(exp.timestamp())
    return payload


def deflate(data: bytes) -> bytes:
    """Raw DEFLATE (no zlib header), as SMART Health Cards use."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(data) + compressor.flush()


def sign_shc(
    issuer: ShcIssuer, payload: Any, *, header: dict[str, Any] | None = None, raw_payload: bytes | None = None
) -> str:
    """A compact JWS; `raw_payload` replaces the deflated JSON (for bad-deflate cases)."""
    body = raw_payload if raw_payload is not None else deflate(json.dumps(payload, separators=(",", ":")).encode())
    protected = header if header is not None else {"alg": "ES256", "zip": "DEF", "kid": issuer.kid}
    return jws.serialize_compact(protected, body, issuer.key, algorithms=["ES256"], registry=SHC_JWS_REGISTRY)


def shc_text(token: str) -> str:
    return "shc:/" + jws_to_numeric(token)


def shc_chunks(token: str, count: int) -> list[str]:
    """The older chunked form: shc:/N/M/ + an equal share of the digits."""
    size = -(-len(token) // count)
    parts = [token[i : i + size] for i in range(0, len(token), size)]
    return [f"shc:/{n}/{len(parts)}/{jws_to_numeric(part)}" for n, part in enumerate(parts, start=1)]


def issue_shc(issuer: ShcIssuer, payload: Any | None = None, **kwargs: Any) -> str:
    return shc_text(sign_shc(issuer, payload if payload is not None else shc_payload(), **kwargs))


# -- QR frames -----------------------------------------------------------------------------------------------


QR_ALPHANUMERIC = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:")


def qr_segments(text: str) -> list[tuple[str, int]]:
    """QR segments as the standards prescribe: HC1 in alphanumeric mode; shc:/ in byte mode with the digits
    in numeric mode (less than half the size of byte mode). A damaged text that neither mode can hold (the
    tests' malformed codes) goes in byte mode."""
    if text.startswith("shc:/"):
        head_end = text.rfind("/") + 1
        digits = text[head_end:]
        if digits.isascii() and digits.isdigit():
            return [(text[:head_end], consts.MODE_BYTE), (digits, consts.MODE_NUMERIC)]
    elif set(text) <= QR_ALPHANUMERIC:
        return [(text, consts.MODE_ALPHANUMERIC)]
    return [(text, consts.MODE_BYTE)]


def render_frame(text: str, path: Path, *, size: tuple[int, int] = (1280, 720), scale: int = 4) -> Path:
    """A camera-sized frame with the QR of `text` on a grey background, as a phone held up to the gate."""
    qr = segno.make(qr_segments(text), error="l" if text.startswith("shc:/") else "q", boost_error=False)
    matrix = np.array([[0 if dark else 255 for dark in row] for row in qr.matrix], dtype=np.uint8)
    matrix = np.pad(matrix, 4, constant_values=255)
    image = cv2.resize(matrix, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
    width, height = size
    if image.shape[0] > height - 20:
        image = cv2.resize(image, (height - 20, height - 20), interpolation=cv2.INTER_AREA)
    frame = np.full((height, width), 140, dtype=np.uint8)
    top, left = (height - image.shape[0]) // 2, (width - image.shape[1]) // 2
    frame[top : top + image.shape[0], left : left + image.shape[1]] = image
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), frame)
    return path


def write_demo(folder: Path) -> dict[str, Path]:
    """Trust files and frames for trying the commands by hand; returns what was written."""
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    csca = make_csca()
    dsc = make_dsc(csca, usages=[EKU_TEST], not_before=now - timedelta(days=30), not_after=now + timedelta(days=365))
    issuer = make_shc_issuer()
    written = {
        "dsc": folder / "dsc.pem",
        "jwks": folder / "shc-issuer.jwks.json",
        "dcc": folder / "frames" / "01-dcc-test.png",
        "shc": folder / "frames" / "02-shc-test.png",
    }
    written["dsc"].write_bytes(dsc.pem())
    written["jwks"].write_text(json.dumps(issuer.jwks(), indent=2))
    payload = dcc_payload("t", [dcc_test_entry(now - timedelta(hours=6))])
    render_frame(issue_dcc(dsc, payload, iat=now - timedelta(hours=5), exp=now + timedelta(days=2)), written["dcc"])
    card = shc_payload([patient(), lab_result(now - timedelta(hours=10))], nbf=now - timedelta(hours=9))
    render_frame(issue_shc(issuer, card), written["shc"])
    return written


if __name__ == "__main__":  # pragma: no cover - a convenience for trying the gate by hand
    for what, path in write_demo(Path(sys.argv[1] if len(sys.argv) > 1 else "standards-demo")).items():
        print(f"{what}: {path}")
