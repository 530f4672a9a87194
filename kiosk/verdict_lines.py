"""Plain data views of judged codes, for JSON lines and one-line terminal reports. Every scanned string is
passed through `sync.core.escaping.visible` here, so no caller can forget to."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import Any

from sync.core.codes import Checks, Credential, Evidence
from kiosk.gate import Assessment, Outcome
from sync.core.escaping import visible


def evidence_json(evidence: Evidence) -> dict[str, Any]:
    """A certificate entry: its kind, the fields of that kind (times in ISO 8601) and a summary in words."""
    out = {
        key: value.isoformat() if isinstance(value, date) else value
        for key, value in asdict(evidence).items()
        if value is not None
    }
    return out | {"summary": evidence.describe()}


def checks_json(assessment: Assessment) -> dict[str, bool | None]:
    """Each verification step on its own (signature_valid, expired, key_usage_ok, schema_valid): True, False,
    or None where it was not reached or does not apply to the format."""
    source = assessment.credential or assessment.error
    return asdict(source.checks if source is not None else Checks())


def credential_json(credential: Credential) -> dict[str, Any]:
    return {
        "format": credential.format,
        "issuer": visible(credential.issuer),
        "kid": visible(credential.kid),
        "subject": credential.subject,
        "name": visible(credential.name),
        "colour": credential.colour.value if credential.colour else None,
        "issued_at": credential.issued_at.isoformat(),
        "expires_at": credential.expires_at.isoformat() if credential.expires_at else None,
        "negative_test_at": credential.negative_test_at.isoformat() if credential.negative_test_at else None,
        "travel_risk": credential.travel_risk,
        **{key: visible(value) for key, value in credential.extra.items()},
        "evidence": [evidence_json(e) for e in credential.evidence],
    }


def assessment_json(assessment: Assessment) -> dict[str, Any]:
    return {
        "text": visible(assessment.text, limit=120),
        "code_type": assessment.code_type,
        "credential": credential_json(assessment.credential) if assessment.credential else None,
        "error": assessment.error.reason.name.lower() if assessment.error else None,
        "verdict": assessment.verdict.decision.value,
        "colour": assessment.verdict.colour.value if assessment.verdict.colour else None,
        "reasons": [visible(r) for r in assessment.verdict.reasons],
        "warnings": [visible(w) for w in assessment.verdict.warnings],
        **checks_json(assessment),
    }


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    entry = outcome.entry
    return assessment_json(outcome.assessment) | {
        "logged": entry is not None,
        "entry_id": entry.id if entry else None,
        "seq": entry.seq if entry else None,
        "time": entry.ts if entry else None,
    }


def human_line(assessment: Assessment) -> str:
    """'PASS    Z**** S** (green): green code; resident'."""
    name = visible(assessment.credential.name, limit=40) if assessment.credential else "-"
    colour = f" ({assessment.verdict.colour.value})" if assessment.verdict.colour else ""
    reasons = "; ".join(visible(r) for r in assessment.verdict.reasons)
    warnings = "".join(f" [warning: {visible(w)}]" for w in assessment.verdict.warnings)
    return f"{assessment.verdict.decision.value.upper():<7} {name}{colour}: {reasons}{warnings}"
