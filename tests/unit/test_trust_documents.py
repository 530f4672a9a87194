"""Trust documents: every file form the gate reads, the refusals that leave the trust list unchanged, and the
documents kept in a real gate database (import, HQ replacement, confirmation, removal, freshness)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from sync.core.codes import TrustList, read_code
from sync.core.codes import hcert_trust, pgc_trust, shc_trust
from sync.core.codes.hcert_trust import DocumentSigners
from sync.core.codes.shc_trust import ShcIssuers
from sync.core.codes.trust import MAX_DOCUMENT_BYTES, TrustError
from kiosk.store import GateStore
from kiosk.trust_store import (
    confirm_documents,
    import_document,
    list_documents,
    load_documents,
    remove_document,
    replace_documents,
)
from tests.standards_certs import NOW, DocumentSignerKeys, ShcIssuer, issue_dcc, issue_shc, make_shc_issuer, shc_payload
from tests.standards_fixtures import csca, dsc, dsc_rsa, shc_issuer, shc_other_issuer  # noqa: F401 - fixtures


def jwks_bytes(issuer: ShcIssuer, **kwargs: object) -> bytes:
    return json.dumps(issuer.jwks(**kwargs)).encode()


@pytest.fixture
def store(tmp_path: Path) -> GateStore:
    with GateStore(tmp_path / "gate.db", "north-gate") as store:
        yield store


# -- file forms ----------------------------------------------------------------------------------------------


def test_pem_file_mixing_a_pgc_issuer_key_and_a_dsc(dsc: DocumentSignerKeys) -> None:
    issuer_key = ed25519.Ed25519PrivateKey.generate().public_key()
    pem = issuer_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    trust = TrustList()
    summary = trust.add_document(pem + b"\n" + dsc.pem(), "mixed.pem")
    assert (summary.kind, summary.counted(pgc_trust.ISSUER_KEY), summary.counted(hcert_trust.SIGNER)) == ("pem", 1, 1)
    assert summary.describe() == "mixed.pem: 1 PGC1 issuer key, 1 EU DCC document signer"
    assert len(trust) == 2


def test_shc_issuer_directory(shc_issuer: ShcIssuer, shc_other_issuer: ShcIssuer) -> None:
    directory = {
        "participating_issuers": [
            {
                "issuer": {"iss": shc_issuer.iss, "name": "Health"},
                "keys": [shc_issuer.public_jwk()],
                "crls": [shc_issuer.crl(["r1", "r2"])],
            },
            {"issuer": {"iss": shc_other_issuer.iss}, "keys": [shc_other_issuer.public_jwk()]},
        ]
    }
    trust = TrustList()
    summary = trust.add_document(json.dumps(directory).encode(), "vci.json")
    assert (summary.kind, summary.counted(shc_trust.ISSUER_KEY), summary.counted(shc_trust.REVOKED)) == ("shc-directory", 2, 2)
    assert read_code(issue_shc(shc_other_issuer, shc_payload(iss=shc_other_issuer.iss)), trust, NOW).format == "SHC"
    assert trust.section(ShcIssuers).revoked(shc_issuer.kid, "r2", NOW)


def test_revocation_list_on_its_own(shc_issuer: ShcIssuer) -> None:
    trust = TrustList()
    summary = trust.add_document(json.dumps(shc_issuer.crl(["abc"])).encode(), "crl.json")
    assert (summary.kind, summary.counted(shc_trust.REVOKED)) == ("shc-crl", 1)


def test_non_signing_keys_in_a_jwks_are_skipped(shc_issuer: ShcIssuer) -> None:
    document = shc_issuer.jwks()
    document["keys"].append({"kty": "RSA", "n": "AQAB", "e": "AQAB", "use": "enc"})
    summary = TrustList().add_document(json.dumps(document).encode(), "mixed.jwks")
    assert summary.counted(shc_trust.ISSUER_KEY) == 1 and len(summary.skipped) == 1
    assert "1 skipped" in summary.describe()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "not a trust file"),
        (b"hello", "not a trust file"),
        (b"-----BEGIN CERTIFICATE-----\nnope", "PEM markers"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "damaged certificate"),
        (b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n", "not a PEM public key"),
        (b"-----BEGIN X-----\nAAAA\n-----END X-----\n", "no key or certificate"),
        (b"{nope", "not valid JSON"),
        (b"[1]", "not a trust file"),
        (b'{"a": 1}', "neither a JWKS"),
        (b'{"keys": {}}', "not a list"),
        (b'{"keys": [], "iss": "http://x"}', "https:// URL"),
        (b'{"keys": [{"kty": "EC", "crv": "P-256", "x": "AA", "y": "AA"}]}', "not a valid P-256 key"),
        (b'{"participating_issuers": [{"keys": []}]}', "no issuer object"),
        (b'{"kid": "k", "rids": ["a.soon"]}', "bad timestamp"),
        (b'{"kid": "k", "rids": [""]}', "non-empty"),
    ],
)
def test_bad_documents_are_refused_with_a_reason(data: bytes, message: str) -> None:
    trust = TrustList()
    with pytest.raises(TrustError, match=message):
        trust.add_document(data, "bad")
    assert len(trust) == 0


def test_private_keys_are_refused(shc_issuer: ShcIssuer, dsc: DocumentSignerKeys) -> None:
    with pytest.raises(TrustError, match="private key"):
        TrustList().add_document(json.dumps({"keys": [shc_issuer.key.as_dict(private=True)]}).encode(), "oops.jwks")
    pem = dsc.key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    with pytest.raises(TrustError, match="private key"):
        TrustList().add_document(dsc.pem() + pem, "oops.pem")


def test_a_kid_that_is_not_the_thumbprint_is_refused(shc_issuer: ShcIssuer) -> None:
    document = shc_issuer.jwks()
    document["keys"][0]["kid"] = "some-other-name"
    with pytest.raises(TrustError, match="thumbprint"):
        TrustList().add_document(json.dumps(document).encode(), "liar.jwks")


def test_a_bad_document_adds_nothing_even_after_good_entries(dsc: DocumentSignerKeys) -> None:
    trust = TrustList()
    with pytest.raises(TrustError):
        trust.add_document(dsc.pem() + b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", "half.pem")
    assert trust.section(DocumentSigners).signers(dsc.kid) == []


def test_oversized_document_is_refused() -> None:
    with pytest.raises(TrustError, match="too large"):
        TrustList().add_document(b" " * (MAX_DOCUMENT_BYTES + 1), "huge.json")


def test_folder_of_trust_files(tmp_path: Path, dsc: DocumentSignerKeys, shc_issuer: ShcIssuer) -> None:
    (tmp_path / "dsc.crt").write_bytes(dsc.pem())
    (tmp_path / "issuer.json").write_bytes(jwks_bytes(shc_issuer))
    (tmp_path / "notes.txt").write_text("ignored")
    trust = TrustList.from_dir(tmp_path)
    assert trust.section(DocumentSigners).signers(dsc.kid) and trust.section(ShcIssuers).keys(shc_issuer.kid)
    assert trust.updated_at is None


# -- documents in the gate database --------------------------------------------------------------------------


def test_import_then_load(store: GateStore, dsc: DocumentSignerKeys, shc_issuer: ShcIssuer) -> None:
    import_document(store, dsc.der(), name="dsc.der", now=NOW - timedelta(hours=2))
    summary = import_document(store, jwks_bytes(shc_issuer), name="issuer.json", now=NOW - timedelta(hours=1))
    assert summary.counted(shc_trust.ISSUER_KEY) == 1
    trust = TrustList()
    assert load_documents(store, trust) == 2
    assert trust.updated_at == NOW - timedelta(hours=1)
    assert read_code(issue_dcc(dsc), trust, NOW).format == "HC1"
    assert read_code(issue_shc(shc_issuer), trust, NOW).format == "SHC"
    assert [d.name for d in list_documents(store)] == ["dsc.der", "issuer.json"]


def test_import_survives_reopening_the_database(tmp_path: Path, dsc: DocumentSignerKeys) -> None:
    with GateStore(tmp_path / "gate.db", "g") as store:
        import_document(store, dsc.pem(), name="dsc.pem")
    with GateStore(tmp_path / "gate.db", "g") as store:
        trust = TrustList()
        load_documents(store, trust)
    assert trust.section(DocumentSigners).signers(dsc.kid)


def test_jwks_without_issuer_needs_one_to_be_stored(store: GateStore, shc_issuer: ShcIssuer) -> None:
    with pytest.raises(TrustError, match="names no issuer"):
        import_document(store, jwks_bytes(shc_issuer, with_iss=False), name="plain.jwks")
    assert list_documents(store) == []
    import_document(store, jwks_bytes(shc_issuer, with_iss=False), name="plain.jwks", shc_issuer=shc_issuer.iss)
    trust = TrustList()
    load_documents(store, trust)
    assert trust.section(ShcIssuers).keys(shc_issuer.kid)[0].issuer == shc_issuer.iss


def test_bad_import_changes_nothing(store: GateStore, dsc: DocumentSignerKeys) -> None:
    import_document(store, dsc.pem(), name="dsc.pem", now=NOW)
    with pytest.raises(TrustError):
        import_document(store, b"not a certificate", name="dsc.pem")
    (document,) = list_documents(store)
    assert document.imported_at == NOW


def test_hq_replacement_is_all_or_nothing_and_leaves_local_imports(
    store: GateStore, dsc: DocumentSignerKeys, dsc_rsa: DocumentSignerKeys, shc_issuer: ShcIssuer
) -> None:
    import_document(store, jwks_bytes(shc_issuer), name="local.json", origin="file")
    replace_documents(store, {"hq-dsc.pem": dsc.pem(), "hq-rsa.pem": dsc_rsa.pem()}, origin="hq", now=NOW)
    with pytest.raises(TrustError):
        replace_documents(store, {"hq-dsc.pem": dsc.pem(), "broken.pem": b"junk"}, origin="hq")
    assert {d.name for d in list_documents(store)} == {"local.json", "hq-dsc.pem", "hq-rsa.pem"}
    replace_documents(store, {"hq-dsc.pem": dsc.pem()}, origin="hq", now=NOW + timedelta(hours=1))
    documents = {d.name: d for d in list_documents(store)}
    assert set(documents) == {"local.json", "hq-dsc.pem"}
    assert documents["hq-dsc.pem"].confirmed_at == NOW + timedelta(hours=1)


def test_hq_cannot_overwrite_a_local_document_of_the_same_name(store: GateStore, dsc: DocumentSignerKeys) -> None:
    import_document(store, dsc.pem(), name="dsc.pem", origin="file")
    with pytest.raises(TrustError, match="another origin"):
        replace_documents(store, {"dsc.pem": dsc.pem()}, origin="hq")
    assert [d.origin for d in list_documents(store)] == ["file"]


def test_confirmation_keeps_the_list_fresh(store: GateStore, dsc: DocumentSignerKeys) -> None:
    replace_documents(store, {"hq-dsc.pem": dsc.pem()}, origin="hq", now=NOW - timedelta(days=10))
    assert confirm_documents(store, origin="hq", now=NOW) == 1
    trust = TrustList()
    load_documents(store, trust)
    assert trust.updated_at == NOW


def test_remove(store: GateStore, dsc: DocumentSignerKeys) -> None:
    import_document(store, dsc.pem(), name="dsc.pem")
    assert remove_document(store, "dsc.pem") is True
    assert remove_document(store, "dsc.pem") is False
    assert list_documents(store) == []


def test_trust_tables_use_their_own_migration_set(store: GateStore, dsc: DocumentSignerKeys) -> None:
    assert list_documents(store) == [] and load_documents(store, TrustList()) == 0
    assert not store.db["trust_documents"].exists()  # reading creates nothing
    import_document(store, dsc.pem(), name="dsc.pem")
    sets = {row["migration_set"] for row in store.db["_sqlite_migrations"].rows}
    assert sets == {"pocket-gate", "pocket-gate-trust"}


def test_a_new_issuer_key_file_is_read_from_bytes(store: GateStore) -> None:
    """What HQ's bundle does: hand over bytes, never a path."""
    issuer = make_shc_issuer("https://bundle.example.org")
    (summary,) = replace_documents(store, {"bundle-issuer.json": jwks_bytes(issuer)}, origin="hq")
    assert summary.counted(shc_trust.ISSUER_KEY) == 1
