"""What a fuzz test asserts when a parser does accept a text: the code it returned really was signed by a key
the gate trusts. Checked again here, apart from the parser, with the signature libraries themselves: a parser
that accepted garbage, or skipped the signature, fails this even though it raised nothing."""

from __future__ import annotations

import zlib
from typing import Any

import base45
import cbor2
from cbor2 import CBORTag
from cwt import COSE
from joserfc import jws

from sync.core.codes import Credential, TrustList
from sync.core.codes.hcert_trust import DocumentSigners
from sync.core.codes.pgc_trust import IssuerKeys
from sync.core.codes.shc_trust import ShcIssuers
from tests.standards_certs import SHC_JWS_REGISTRY


def _cose(text: str, prefix: str) -> CBORTag:
    message: Any = cbor2.loads(zlib.decompress(base45.b45decode(text[len(prefix) :])))
    if isinstance(message, CBORTag) and message.tag == 61:  # a CWT around the COSE_Sign1, as HC1 allows
        message = message.value
    return message if isinstance(message, CBORTag) else CBORTag(18, message)


def _shc_token(digits: str) -> str:
    return "".join(chr(int(digits[i : i + 2]) + 45) for i in range(0, len(digits), 2))


def assert_genuine(text: str, credential: Credential, trust: TrustList, token: str | None = None) -> None:
    """`credential`, read from `text`, was signed by a key `trust` holds under the credential's key id.
    `token` is a SMART Health Card's whole JWS when `text` was only its last chunk."""
    if credential.format == "PGC1":
        key = trust.section(IssuerKeys).get(bytes.fromhex(credential.kid))
        assert key is not None, f"PGC1 code accepted with an untrusted key id {credential.kid}"
        COSE.new().decode(_cose(text, "PGC1:"), key.cose_key)
    elif credential.format == "HC1":
        signers = trust.section(DocumentSigners).signers(bytes.fromhex(credential.kid))
        assert signers, f"HC1 certificate accepted with an untrusted key id {credential.kid}"
        message = _cose(text, "HC1:")
        verified = []
        for signer in signers:
            try:
                COSE.new().decode(message, signer.cose_key)
                verified.append(signer)
            except Exception:  # noqa: BLE001 - only one of the signers has to verify it
                continue
        assert verified, "HC1 certificate accepted that no trusted document signer signed"
    else:
        assert credential.format == "SHC", credential.format
        keys = trust.section(ShcIssuers).keys(credential.kid)
        assert keys, f"SMART Health Card accepted with an untrusted key {credential.kid}"
        whole = token or _shc_token(text.removeprefix("shc:/"))
        assert any(_jws_verifies(whole, key.key) for key in keys), "SMART Health Card accepted that no trusted key signed"


def _jws_verifies(token: str, key: Any) -> bool:
    try:
        jws.deserialize_compact(token, key, algorithms=["ES256"], registry=SHC_JWS_REGISTRY)
    except Exception:  # noqa: BLE001 - any failure means this key did not sign it
        return False
    return True
