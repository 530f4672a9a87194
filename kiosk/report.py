"""Plain data views of judged codes, for JSON lines and one-line terminal reports. Every scanned string is
passed through `text.visible` here, so no caller can forget to."""

from __future__ import annotations

from typing import Any

from kiosk.codes import Credential
from kiosk.gate import Assessment, Outcome
from kiosk.text import visible


def credential_json(credential: Credential) -> dict[str, Any]:
    return {
        "format": credential.format,
        "issuer": visible(credential.issuer),
        "kid": credential.kid,
        "subject": credential.subject,
        "name": visible(credential.name),
        "colour": credential.colour.value if credential.colour else None,
        "issued_at": credential.issued_at.isoformat(),
        "expires_at": credential.expires_at.isoformat(),
        "negative_test_at": credential.negative_test_at.isoformat() if credential.negative_test_at else None,
        "travel_risk": credential.travel_risk,
        **{key: visible(value) for key, value in credential.extra.items()},
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
    return f"{assessment.verdict.decision.value.upper():<7} {name}{colour}: {reasons}"
