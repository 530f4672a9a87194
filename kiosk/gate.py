"""The gate's one decision path: scanned text (or a typed ID) -> credential -> verdict -> committed entry.

The CLI's `scan` and `check`, the kiosk UI and the tests all go through `Gate`, so what a keeper sees and
what the log holds can never disagree. `Gate` imports nothing from the UI and never touches the network.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from kiosk.codes import CodeError, Credential, Reason, TrustList, read_code
from kiosk.config import KioskConfig
from kiosk.identity import load_district_key
from kiosk.policy import Decision, Direction, Knowledge, Policy, PolicyError, Presentation, Verdict, judge
from kiosk.store import Entry, EntryDraft, GateStore
from kiosk.trust_store import load_documents


@dataclass(frozen=True)
class Assessment:
    """A judged code before (or without) logging."""

    text: str
    credential: Credential | None
    error: CodeError | None
    verdict: Verdict

    @property
    def code_type(self) -> str:
        if self.credential is not None:
            return self.credential.format
        if self.error is not None and self.error.reason is Reason.INCOMPLETE:
            return "partial"
        return "invalid" if self.error and self.error.reason is not Reason.NOT_OURS else "unknown"

    @property
    def loggable(self) -> bool:
        """A text in none of our formats (a Wi-Fi or shop QR in view) is not an attempt to pass, nor is one
        part of a multi-part code; anything else that claims to be a code, valid or forged, is logged."""
        return self.code_type not in ("unknown", "partial")


@dataclass(frozen=True)
class Outcome:
    assessment: Assessment
    entry: Entry | None
    """The committed entry, or None when nothing was logged."""


class Gate:
    """Judges and logs presentations at one gate."""

    def __init__(
        self,
        store: GateStore | None,
        trust: TrustList,
        policy: Policy,
        district_key: bytes | None = None,
    ) -> None:
        self.store = store
        self.trust = trust
        self.policy = policy
        self.district_key = district_key

    def assess_code(
        self, text: str, *, direction: Direction, temperature: float | None = None, now: datetime | None = None
    ) -> Assessment:
        """Verify and judge a scanned text without logging it."""
        moment = now or datetime.now(UTC)
        try:
            credential = read_code(text, self.trust, moment)
        except CodeError as error:
            # One part of a multi-part code is progress, not a failure: hold for the next part.
            decision = Decision.HOLD if error.reason is Reason.INCOMPLETE else Decision.REFUSE
            return Assessment(text, None, error, Verdict(decision, (str(error),), None))
        who = Presentation(
            kind="certificate" if credential.is_certificate else "code",
            subject=credential.subject,
            name=credential.name,
            colour=credential.colour,
            negative_test_at=credential.negative_test_at,
            travel_risk=credential.travel_risk,
            evidence=credential.evidence,
        )
        knows = self.store.knowledge(credential.subject, moment) if self.store else Knowledge()
        verdict = judge(
            self.policy,
            who,
            knows,
            temperature=temperature,
            direction=direction,
            now=moment,
            trust_updated_at=self.trust.updated_at,
        )
        return Assessment(text, credential, None, verdict)

    def present_code(
        self,
        text: str,
        *,
        direction: Direction,
        temperature: float | None = None,
        operator: str = "",
        now: datetime | None = None,
    ) -> Outcome:
        """Assess a scanned text and, when it claims to be a code, commit the entry before returning."""
        moment = now or datetime.now(UTC)
        assessment = self.assess_code(text, direction=direction, temperature=temperature, now=moment)
        if self.store is None or not assessment.loggable:
            return Outcome(assessment, None)
        credential = assessment.credential
        draft = EntryDraft(
            direction=direction,
            code_type=assessment.code_type,
            verdict=assessment.verdict,
            subject=credential.subject if credential else None,
            name=credential.name if credential else "",
            temperature=temperature,
            operator=operator,
            details={"warnings": "; ".join(assessment.verdict.warnings)} if assessment.verdict.warnings else {},
        )
        return Outcome(assessment, self.store.record(draft, moment))


def load_trust(
    config: KioskConfig,
    trust_dir: Path | None = None,
    store: GateStore | None = None,
    *,
    trust_file: Path | None = None,
) -> TrustList:
    """Trusted keys from the folder given (or configured) plus those HQ synced into the store and the trust
    documents imported there; or, with `trust_file`, that one file's keys alone (to diagnose a code)."""
    if trust_file is not None:
        return TrustList.from_file(trust_file)
    folder = trust_dir or config.trust_dir
    trust = TrustList.from_dir(folder) if folder else TrustList()
    if store is not None:
        for row in store.rows("trusted_keys"):
            trust.add_pem(row["pem"].encode(), label=row["label"])
        load_documents(store, trust)
    return trust


HQ_POLICY_META = "hq_policy"
"""Meta key holding the policy HQ pushed (JSON, written by the sync client); once there it is the rules in force."""


def policy_in_force(config: KioskConfig, store: GateStore | None) -> Policy:
    """HQ's policy when the gate has synced one, else the configured file (or the field defaults)."""
    text = store.get_meta(HQ_POLICY_META) if store is not None else None
    if text is None:
        return config.load_policy()
    try:
        return Policy.model_validate_json(text)
    except ValidationError as exc:
        raise PolicyError(f"the policy synced from HQ is invalid ({exc.error_count()} problems); sync again") from exc


def open_gate(
    config: KioskConfig,
    *,
    db: Path | None = None,
    trust_dir: Path | None = None,
    trust_file: Path | None = None,
    read_only: bool = False,
) -> Gate:
    """Build a Gate from configuration. With `read_only`, a missing database is not created (for `check`)."""
    path = db or config.database
    store = None if read_only and not path.exists() else GateStore(path, config.gate_id)
    district_key = load_district_key(config.district_key_file) if config.district_key_file else None
    trust = load_trust(config, trust_dir, store, trust_file=trust_file)
    return Gate(store, trust, policy_in_force(config, store), district_key)


