"""Trust files that cannot be used are refused whole, each with a message naming the file, the entry and the
problem; usable ones are summarised in plain words, and every key keeps where it came from. Edges of the
validity periods, revocation times and size limits hold exactly."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from joserfc.jwk import ECKey

from sync.core.codes.hcert_trust import SIGNER, DocumentSigners, certificate_kid
from sync.core.codes.pgc_trust import ISSUER_KEY, IssuerKeys
from sync.core.codes.shc_trust import REVOKED, ShcIssuers
from sync.core.codes.shc_trust import ISSUER_KEY as SHC_KEY
from sync.core.codes.trust import MAX_DOCUMENT_BYTES, TrustError, TrustList, TrustSummary, key_id, read_trust_file
from tests.standards_certs import NOW, Csca, make_csca, make_dsc

ISS = "https://health.example.org/issuer"


def public_pem(key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)


def certificate(key: ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey, *, country: bool = True) -> x509.Certificate:
    """A self-signed certificate around `key` (the DSC parser looks at the key, not at the chain)."""
    attributes = [x509.NameAttribute(x509.NameOID.COMMON_NAME, "Odd DSC")]
    if country:
        attributes.append(x509.NameAttribute(x509.NameOID.COUNTRY_NAME, "XB"))
    name = x509.Name(attributes)
    builder = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(1).not_valid_before(NOW - timedelta(days=1)).not_valid_after(NOW + timedelta(days=1))
    )  # fmt: skip
    return builder.sign(key, None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256())


def cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def jwk(**changes: object) -> dict[str, object]:
    return ECKey.generate_key("P-256", private=False).as_dict(private=False) | {"use": "sig", "alg": "ES256"} | changes


def refused(data: bytes, label: str = "x.json", **kwargs: str) -> str:
    with pytest.raises(TrustError) as caught:
        TrustList().add_document(data, label, **kwargs)
    return str(caught.value)


@pytest.fixture(scope="module")
def csca() -> Csca:
    return make_csca()


NOT_PEM_KEY = b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
CASES: dict[str, tuple[Callable[[], bytes], str]] = {
    "not a PEM key": (lambda: NOT_PEM_KEY, "x.json: not a PEM public key"),
    "P-384 key": (lambda: public_pem(ec.generate_private_key(ec.SECP384R1())),
                  "x.json: only P-256 ECDSA keys are accepted, not secp384r1"),
    "RSA key": (lambda: public_pem(rsa.generate_private_key(65537, 2048)),
                "x.json: only Ed25519 and ECDSA P-256 keys are accepted"),
    "markers only": (lambda: b"-----BEGIN PUBLIC KEY-----", "x.json: PEM markers without a complete block"),
    "damaged certificate": (lambda: public_pem(ed25519.Ed25519PrivateKey.generate())
                            + b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
                            "x.json block 2: damaged certificate"),
    "private key": (lambda: ed25519.Ed25519PrivateKey.generate().private_bytes(
                        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()),
                    "x.json: holds a private key; give gates only public keys and certificates"),
    "nothing usable in PEM": (lambda: b"-----BEGIN X509 CRL-----\nAAAA\n-----END X509 CRL-----\n",
                              "x.json: holds no key or certificate the gate can use (x.json: X509 CRL is not a key or certificate)"),
    "small RSA certificate": (lambda: cert_pem(certificate(rsa.generate_private_key(65537, 1024))),
                              "x.json: holds no key or certificate the gate can use (x.json: RSA key of 1024 bits)"),
    "Ed25519 certificate": (lambda: cert_pem(certificate(ed25519.Ed25519PrivateKey.generate())),
                            "x.json: holds no key or certificate the gate can use "
                            "(x.json: Ed25519PublicKey (EU DCC signs with P-256 or RSA))"),
    "P-384 certificate": (lambda: cert_pem(certificate(ec.generate_private_key(ec.SECP384R1()))),
                          "x.json: holds no key or certificate the gate can use "
                          "(x.json: secp384r1 key (EU DCC signs with P-256 or RSA))"),
    "not a trust file": (lambda: b"\x00\x01binary", "x.json: not a trust file (expected PEM, a DER certificate, a JWKS, "
                                                    "an issuer directory or a revocation list)"),
    "not JSON": (lambda: b"{x", "x.json: not valid JSON"),
    "issuers not a list": (lambda: json.dumps({"participating_issuers": {}}).encode(),
                           "x.json: participating_issuers is not a list"),
    "issuer not an object": (lambda: json.dumps({"participating_issuers": [1]}).encode(),
                             "x.json: issuer 1 has no issuer object"),
    "issuer URL": (lambda: json.dumps({"participating_issuers": [{"issuer": {"iss": ISS}, "keys": []},
                                                                 {"issuer": {"iss": ISS + "/"}}]}).encode(),
                   "x.json issuer 2: an issuer is an https:// URL without a trailing slash"),
    "keys not a list": (lambda: json.dumps({"keys": {}}).encode(), "x.json: `keys` is not a list"),
    "key not an object": (lambda: json.dumps({"keys": [jwk(), 1], "iss": ISS}).encode(), "x.json key 2: not a JSON object"),
    "private JWK": (lambda: json.dumps({"keys": [ECKey.generate_key("P-256").as_dict(private=True)], "iss": ISS}).encode(),
                    "x.json key 1: holds a private key; give gates only the public JWKS"),
    "kid not thumbprint": (lambda: json.dumps({"keys": [jwk(kid="mine")], "iss": ISS}).encode(),
                           "x.json key 1: its kid is not its JWK thumbprint, as SMART Health Cards require"),
    "plain http issuer": (lambda: json.dumps({"keys": [jwk()], "iss": "http://health.example.org"}).encode(),
                          "x.json: an issuer is an https:// URL without a trailing slash"),
    "issuer too long": (lambda: json.dumps({"keys": [jwk()], "iss": "https://" + "h" * 505}).encode(),
                        "x.json: an issuer is an https:// URL without a trailing slash"),
    "other JSON": (lambda: b'{"a": 1}', "x.json: JSON that is neither a JWKS, an issuer directory nor a revocation list"),
    "revocation kid not text": (lambda: json.dumps({"kid": 5, "rids": []}).encode(),
                                "x.json: a revocation list needs `kid` and `rids`"),
    "revocation rids not a list": (lambda: json.dumps({"kid": "k", "rids": "r"}).encode(),
                                   "x.json: a revocation list needs `kid` and `rids`"),
    "revocation in a JWKS not an object": (lambda: json.dumps({"keys": [], "iss": ISS, "crls": [1]}).encode(),
                                           "x.json: a revocation list needs `kid` and `rids`"),
    "empty revoked id": (lambda: json.dumps({"kid": "k", "rids": [""]}).encode(), "x.json: revoked ids are non-empty strings"),
    "bad timestamp": (lambda: json.dumps({"kid": "k", "rids": ["r.12a"]}).encode(), "x.json: revoked id 'r.12a' has a bad timestamp"),
    "timestamp too long": (lambda: json.dumps({"kid": "k", "rids": ["r." + "1" * 13]}).encode(),
                           "x.json: revoked id 'r.1111111111111' has a bad timestamp"),
    "timestamp past the year 9999": (lambda: json.dumps({"kid": "k", "rids": ["r." + "9" * 12]}).encode(),
                                     "x.json: revoked id 'r.999999999999' has a bad timestamp"),
    "other revocation method": (lambda: json.dumps({"kid": "k", "rids": ["r"], "method": "hash"}).encode(),
                                "x.json: holds no key or certificate the gate can use "
                                "(x.json: revocation method 'hash' is not supported)"),
    "only other keys": (lambda: json.dumps({"keys": [jwk(crv="P-384"), jwk(use="enc"), jwk(kty="OKP")], "iss": ISS}).encode(),
                        "x.json: holds no key or certificate the gate can use (x.json key 1: not an ES256 signing key; "
                        "x.json key 2: not an ES256 signing key; x.json key 3: not an ES256 signing key)"),
}  # fmt: skip


@pytest.mark.parametrize("case", CASES)
def test_each_unusable_file_is_refused_naming_what_is_wrong(case: str) -> None:
    make, message = CASES[case]
    assert refused(make()) == message


def test_the_size_limit_is_exact() -> None:
    assert refused(b" " * (MAX_DOCUMENT_BYTES + 1)) == f"x.json: {MAX_DOCUMENT_BYTES + 1} bytes is too large for a trust file"
    assert refused(b" " * MAX_DOCUMENT_BYTES).startswith("x.json: not a trust file")


def test_files_are_read_within_the_size_limit(tmp_path: Path) -> None:
    big = tmp_path / "big.pem"
    with big.open("wb") as out:
        out.truncate(MAX_DOCUMENT_BYTES + 1)
    with pytest.raises(TrustError, match=f"^big.pem: {MAX_DOCUMENT_BYTES + 1} bytes is too large for a trust file$"):
        read_trust_file(big)
    with big.open("r+b") as out:
        out.truncate(MAX_DOCUMENT_BYTES)
    assert len(read_trust_file(big)) == MAX_DOCUMENT_BYTES
    with pytest.raises(TrustError, match=f"^cannot read trust file {tmp_path / 'none.pem'}: No such file or directory$"):
        read_trust_file(tmp_path / "none.pem")
    with pytest.raises(TrustError, match=f"^trusted keys folder {tmp_path / 'none'} does not exist$"):
        TrustList.from_dir(tmp_path / "none")


def test_a_document_signer_keeps_its_details_and_is_valid_to_the_second(csca: Csca) -> None:
    dsc = make_dsc(csca, not_before=NOW - timedelta(days=1), not_after=NOW + timedelta(days=1))
    trust = TrustList()
    summary = trust.add_document(dsc.pem() + dsc.pem(), "list.pem")
    (signer,) = trust.section(DocumentSigners).signers(dsc.kid)

    assert (summary.counted(SIGNER), summary.describe()) == (2, "list.pem: 2 EU DCC document signers")
    assert (signer.subject, signer.country, signer.label) == ("CN=DSC 1,C=XA", "XA", "list.pem block 1")
    assert signer.fingerprint == hashlib.sha256(dsc.certificate.public_bytes(serialization.Encoding.DER)).digest()
    assert len(signer.kid) == 8 and len(trust) == 1
    assert signer.valid_at(NOW - timedelta(days=1)) and signer.valid_at(NOW + timedelta(days=1))
    assert not signer.valid_at(NOW - timedelta(days=1, seconds=1)) and not signer.valid_at(NOW + timedelta(days=1, seconds=1))


def test_a_signer_without_a_country_has_none() -> None:
    trust = TrustList()
    cert = certificate(ec.generate_private_key(ec.SECP256R1()), country=False)
    summary = trust.add_document(cert.public_bytes(serialization.Encoding.DER), "one.der")
    (signer,) = trust.section(DocumentSigners).signers(certificate_kid(cert))
    assert (summary.kind, summary.label, signer.country, signer.label) == ("x509-der", "one.der", None, "one.der")


def test_issuer_keys_keep_their_label_and_count(tmp_path: Path) -> None:
    privates = [ed25519.Ed25519PrivateKey.generate(), ec.generate_private_key(ec.SECP256R1())]
    pems = [public_pem(key) for key in privates]
    (tmp_path / "two.pem").write_bytes(b"".join(pems))
    trust = TrustList.from_file(tmp_path / "two.pem")
    keys = [trust.section(IssuerKeys).get(key_id(key.public_key())) for key in privates]

    assert [k.label for k in keys] == ["two.pem block 1", "two.pem block 2"] and len(trust) == 2
    assert TrustList().add_document(b"".join(pems), "two.pem").describe() == "two.pem: 2 PGC1 issuer keys"
    assert all(len(k.kid) == 8 and trust.section(IssuerKeys).get(k.kid) is k for k in keys)
    one = TrustList()
    one.section(IssuerKeys).add(keys[0])
    assert one.section(IssuerKeys).get(keys[0].kid) is keys[0] and len(one) == 1
    assert TrustList.from_dir(tmp_path).section(IssuerKeys).get(keys[1].kid).label == "two.pem block 2"  # type: ignore[union-attr]
    single = TrustList()
    assert single.add_document(pems[0], "one.pem").describe() == "one.pem: 1 PGC1 issuer key"
    assert single.section(IssuerKeys).get(key_id(privates[0].public_key())).label == "one.pem"  # type: ignore[union-attr]


def test_smart_health_card_keys_know_their_issuer_and_revocations() -> None:
    keys = [jwk(use="enc"), jwk(), {k: v for k, v in jwk().items() if k != "use"}]
    stamp = int((NOW - timedelta(days=1)).timestamp())
    crl = {"kid": "k", "rids": ["gone", f"old.{stamp}", "twelve." + "1" * 12]}
    document = b"  \n" + json.dumps({"keys": keys, "iss": ISS, "crls": [crl]}).encode()
    trust = TrustList()
    summary = trust.add_document(document, "issuer.json")

    assert summary.contents() == ("2 SMART Health Card issuer keys, 3 revoked SMART Health Card ids "
                                  "(1 skipped: issuer.json key 1: not an ES256 signing key)")  # fmt: skip
    shc = [key for raw in keys[1:] for key in trust.section(ShcIssuers).keys(ECKey.import_key(raw).thumbprint())]
    assert [(k.issuer, k.label, k.kid == k.key.thumbprint()) for k in shc] == [(ISS, "issuer.json", True)] * 2
    assert len(trust) == 2
    assert trust.section(ShcIssuers).revoked("k", "gone", NOW) and not trust.section(ShcIssuers).revoked("k", "kept", NOW) and not trust.section(ShcIssuers).revoked("x", "gone", NOW)
    assert trust.section(ShcIssuers).revoked("k", "old", NOW - timedelta(days=1, seconds=1))
    assert not trust.section(ShcIssuers).revoked("k", "old", NOW - timedelta(days=1))


def test_an_issuer_directory_binds_each_issuers_keys() -> None:
    key = jwk()
    directory = {"participating_issuers": [{"issuer": {"iss": ISS}, "keys": [key]}]}
    trust = TrustList()
    summary = trust.add_document(json.dumps(directory).encode(), "dir.json")
    (entry,) = trust.section(ShcIssuers).keys(ECKey.import_key(key).thumbprint())

    assert (summary.kind, summary.counted(SHC_KEY), entry.issuer, entry.label) == ("shc-directory", 1, ISS, f"dir.json [{ISS}]")
    bound = TrustList()
    bound.add_document(json.dumps({"keys": [key]}).encode(), "plain.json", issuer=ISS)
    assert [k.issuer for k in bound.section(ShcIssuers).keys(ECKey.import_key(key).thumbprint())] == [ISS]
    longest = "https://" + "h" * 504
    assert TrustList().add_document(json.dumps({"keys": [jwk()], "iss": longest}).encode(), "l.json").counted(SHC_KEY) == 1


def test_a_summary_in_words() -> None:
    assert TrustSummary("a", "pem").contents() == "nothing usable"
    many = TrustSummary("a", "jwks", {SHC_KEY: 1, REVOKED: 2}, skipped=["s1", "s2", "s3", "s4"])
    assert many.contents() == "1 SMART Health Card issuer key, 2 revoked SMART Health Card ids (4 skipped: s1; s2; s3...)"
    three = TrustSummary("a", "pem", {ISSUER_KEY: 3, SIGNER: 1}, skipped=["s1", "s2", "s3"])
    assert three.describe() == "a: 3 PGC1 issuer keys, 1 EU DCC document signer (3 skipped: s1; s2; s3)"
    assert TrustSummary("crl.json", "shc-crl", {REVOKED: 1}).contents() == "1 revoked SMART Health Card id"
