"""The gate's one decision path: scanned text (or a typed ID) -> credential -> verdict -> committed entry.

The CLI's `scan` and `check`, the kiosk UI and the tests all go through `Gate`, so what a keeper sees and
what the log holds can never disagree. `Gate` imports nothing from the UI and never touches the network.

Typed entries (a person without a phone code, a visitor) are checked here before anything is judged: a
mistyped ID number is an `EntryInputError` with the keeper's words for it, and nothing is logged. A typed
number is found on the lists by its hash under the gate's own key, or logged sealed to HQ (`kiosk.id_keys`). A
temperature taken right after a verdict is logged as a new entry that amends the first: the chain only grows.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kiosk import id_keys
from kiosk.config import KioskConfig
from kiosk.keeper_locale import follow_district
from kiosk.rules_in_force import Rules, RulesInForce, lists_confirmed_at
from kiosk.store import Entry, EntryDraft, GateStore
from sync.core.codes import CodeError, Credential, Reason, TrustList, read_code
from sync.core.identity import RESIDENT_ID, document_problem, load_district_key, mask_name
from sync.core.policy import Decision, Direction, Knowledge, Policy, Presentation, Verdict, judge
from sync.core.policy.rules.companions import CompanionRules
from sync.core.readings import temperature_problem
from sync.core.i18n import N_, _


TYPED_KINDS = ("manual", "visitor", "companion")
"""Presentations typed by the keeper rather than scanned; their kind is their code type in the log."""

CHILD_WITHOUT_ID = "child"
"""The document type of a companion who is a child without an ID number (`Gate.present_companion`)."""

SOURCES = ("camera", "scanner")
"""What read a scanned code, logged in its entry's details as `source`: the webcam's frames, or a hardware QR
scanner (a keyboard wedge or a serial one) that hands over the text itself."""


@dataclass(frozen=True)
class Assessment:
    """A judged code before (or without) logging."""

    text: str
    credential: Credential | None
    error: CodeError | None
    verdict: Verdict
    presentation: Presentation | None = None
    """What was judged: the credential's facts, a typed entry's, or whose an authentic code refused before
    judging is (expired, not yet valid: `CodeError.holder`); None when the code's signature did not verify."""

    @property
    def code_type(self) -> str:
        if self.presentation is not None and self.presentation.kind in TYPED_KINDS:
            return self.presentation.kind
        if self.credential is not None:
            return self.credential.format
        if self.error is not None and self.error.holder is not None:
            return self.error.holder.format
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


MAX_NAME_CHARS = 64
MAX_NOTE_CHARS = 120


class EntryInputError(ValueError):
    """A typed entry is incomplete or wrong. Nothing was judged or logged; the message is for the keeper."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class Visitor:
    """A visitor's registration as typed by the keeper."""

    name: str
    phone: str
    household: str
    """The household (flat, unit) being visited."""
    reason: str
    id_number: str = ""
    """Optional: with it, an HQ pass held by the visitor is found; without it the visitor has none."""
    doc_type: str = RESIDENT_ID
    host_confirmed: bool = False
    """The keeper called the household visited and the host confirmed the visit (`[access] host_confirmation`);
    logged with the keeper's id as `host_confirmed_by`."""


def _check_temperature(temperature: float | None) -> None:
    if problem := temperature_problem(temperature):
        raise EntryInputError("temperature", problem)


def mask_phone(phone: str) -> str:
    """'13812345678' -> '138****5678': enough for the keeper to read back, not enough to call."""
    if len(phone) >= 8:
        return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
    return phone[:1] + "*" * (len(phone) - 1)


def code_hash(text: str) -> str:
    """What identifies a code whose signature did not verify (nothing in it can be believed, so it has no
    person): the SHA-256 of its text, logged so that the same forged or damaged code can be found again."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def _plain(text: str) -> str:
    """One line, single spaces: typed text as it will be logged."""
    return " ".join(text.split())


def _required(field: str, label: str, value: str, limit: int) -> str:
    """`label` is marked with N_() and said in the keeper's language."""
    text = _plain(value)
    if not text:
        raise EntryInputError(field, _("{field} is required").format(field=_(label)))
    if len(text) > limit:
        raise EntryInputError(field, _("{field} is at most {limit} characters").format(field=_(label), limit=limit))
    return text


class Gate:
    """Judges and logs presentations at one gate.

    The trust list and policy can be replaced while the gate is in use (`put_in_force`, when HQ's bundle
    changed them: see `kiosk.rules_in_force`) from another thread than the camera's: each judgement reads
    `rules` once, so it sees either the old pair or the new one, never half of each."""

    def __init__(
        self,
        store: GateStore | None,
        trust: TrustList,
        policy: Policy,
        district_key: bytes | None = None,
    ) -> None:
        self.store = store
        self.rules = Rules(trust, policy)
        self.district_key = district_key
        self.in_force: RulesInForce | None = None
        """The owner of the rules in force, which puts new ones in force (set by `open_gate`; None for a gate
        built on fixed rules)."""

    @property
    def trust(self) -> TrustList:
        return self.rules.trust

    @property
    def policy(self) -> Policy:
        return self.rules.policy

    def put_in_force(self, rules: Rules) -> None:
        """Judge by these rules from the next code on (`RulesInForce` calls this when new ones are in force)."""
        self.rules = rules

    def assess_code(
        self,
        text: str,
        *,
        direction: Direction,
        temperature: float | None = None,
        now: datetime | None = None,
        ignoring: str | None = None,
    ) -> Assessment:
        """Verify and judge a scanned text without logging it (a temperature outside `sync.core.readings`' range is
        an EntryInputError: nothing is judged)."""
        _check_temperature(temperature)
        moment = now or datetime.now(UTC)
        rules = self.rules
        try:
            credential = read_code(text, rules.trust, moment)
        except CodeError as error:
            # One part of a multi-part code is progress, not a failure: hold for the next part.
            decision = Decision.HOLD if error.reason is Reason.INCOMPLETE else Decision.REFUSE
            holder = error.holder
            who = None if holder is None else Presentation(kind="code", subject=holder.subject, name=holder.name)
            return Assessment(text, None, error, Verdict(decision, (error.because,), None), who)
        who = Presentation(
            kind="certificate" if credential.is_certificate else "code",
            subject=credential.subject,
            name=credential.name,
            colour=credential.colour,
            negative_test_at=credential.negative_test_at,
            travel_risk=credential.travel_risk,
            evidence=credential.evidence,
        )
        verdict = self._judge(who, direction, temperature, moment, rules, ignoring=ignoring)
        return Assessment(text, credential, None, verdict, who)

    def _judge(
        self,
        who: Presentation,
        direction: Direction,
        temperature: float | None,
        moment: datetime,
        rules: Rules | None = None,
        *,
        ignoring: str | None = None,
        knows: Knowledge | None = None,
    ) -> Verdict:
        """`ignoring`: an entry that is not a passage of its own (the one a retaken temperature amends); `knows`:
        what the lists say, when not read for the subject (a child without an ID)."""
        rules = rules or self.rules
        if knows is None:
            knows = self.store.knowledge(who.subject, moment, ignoring=ignoring) if self.store else Knowledge()
        return judge(
            rules.policy,
            who,
            knows,
            temperature=temperature,
            direction=direction,
            now=moment,
            trust_updated_at=rules.trust.updated_at,
            lists_checked_at=lists_confirmed_at(self.store),
        )

    def present_code(
        self,
        text: str,
        *,
        direction: Direction,
        temperature: float | None = None,
        operator: str = "",
        now: datetime | None = None,
        source: str = "",
    ) -> Outcome:
        """Assess a scanned text and, when it claims to be a code, commit the entry before returning. `source`
        says what read it (`camera` or `scanner`, see SOURCES) and is logged with the entry."""
        moment = now or datetime.now(UTC)
        assessment = self.assess_code(text, direction=direction, temperature=temperature, now=moment)
        if not assessment.loggable:
            return Outcome(assessment, None)
        unverified = assessment.presentation is None
        details: dict[str, object] = {"code_hash": code_hash(text)} if unverified else {}
        if source:
            details["source"] = source
        return self._log(
            assessment, direction=direction, temperature=temperature, operator=operator, moment=moment, details=details
        )

    def _identify(self, id_number: str, doc_type: str) -> tuple[str | None, dict[str, str]]:
        """The subject a typed number is judged and logged under, and what its entry's details carry."""
        try:
            return id_keys.identify(self.store, self.district_key, id_number, doc_type)
        except id_keys.NoIdKey as exc:
            raise EntryInputError("id_number", str(exc)) from exc

    def _log(
        self,
        assessment: Assessment,
        *,
        direction: Direction,
        temperature: float | None,
        operator: str,
        moment: datetime,
        details: dict[str, str],
    ) -> Outcome:
        if self.store is None:
            return Outcome(assessment, None)
        who = assessment.presentation
        if assessment.verdict.warnings:
            details = details | {"warnings": "; ".join(assessment.verdict.warnings)}
        draft = EntryDraft(
            direction=direction,
            code_type=assessment.code_type,
            verdict=assessment.verdict,
            subject=who.subject if who else None,
            name=who.name if who else "",
            temperature=temperature,
            operator=operator,
            details=details,
        )
        return Outcome(assessment, self.store.record(draft, moment))

    def present_manual(
        self,
        id_number: str,
        name: str,
        *,
        doc_type: str = RESIDENT_ID,
        direction: Direction,
        temperature: float | None = None,
        operator: str = "",
        now: datetime | None = None,
    ) -> Outcome:
        """A person without a phone code, checked by their typed ID number: judged by the same policy (the
        red/yellow list, roster and passes by the keyed hash of the number) and logged the same way."""
        if problem := document_problem(id_number, doc_type):
            raise EntryInputError("id_number", problem)
        masked = mask_name(_required("name", N_("the name"), name, MAX_NAME_CHARS))
        _check_temperature(temperature)
        moment = now or datetime.now(UTC)
        subject, sealed = self._identify(id_number, doc_type)
        who = Presentation(kind="manual", subject=subject, name=masked)
        assessment = Assessment("", None, None, self._judge(who, direction, temperature, moment), who)
        return self._log(
            assessment,
            direction=direction,
            temperature=temperature,
            operator=operator,
            moment=moment,
            details={"doc_type": doc_type} | sealed,
        )

    def household_phone(self, household: str) -> str | None:
        """The phone the roster gives for the household a visitor names (None: no roster, or no phone on it)."""
        return self.store.household_phone(household) if self.store is not None else None

    def present_visitor(
        self,
        visitor: Visitor,
        *,
        direction: Direction,
        temperature: float | None = None,
        operator: str = "",
        now: datetime | None = None,
    ) -> Outcome:
        """Register a visitor and judge them: without an HQ pass (found by their ID number) a visitor is a
        non-resident without a pass, which the default policy refuses. The refusal is logged with the
        visit's details; the phone is kept masked and as a keyed hash, never in full."""
        masked = mask_name(_required("name", N_("the visitor's name"), visitor.name, MAX_NAME_CHARS))
        phone = "".join(ch for ch in visitor.phone if ch.isdigit())
        if not 5 <= len(phone) <= 20:
            raise EntryInputError("phone", _("a phone number has 5 to 20 digits"))
        household = _required("household", N_("the household visited"), visitor.household, MAX_NAME_CHARS)
        reason = _required("reason", N_("the reason for the visit"), visitor.reason, MAX_NOTE_CHARS)
        subject, sealed = None, {}
        if visitor.id_number.strip():
            if problem := document_problem(visitor.id_number, visitor.doc_type):
                raise EntryInputError("id_number", problem)
            subject, sealed = self._identify(visitor.id_number, visitor.doc_type)
            sealed = {"doc_type": visitor.doc_type} | sealed
        _check_temperature(temperature)
        details = {"phone": mask_phone(phone), "household": household, "reason": reason} | sealed
        if visitor.host_confirmed:
            details["host_confirmed_by"] = operator
        if (phone_hash := id_keys.phone_hash(self.store, self.district_key, phone)) is not None:
            details["phone_hash"] = phone_hash
        moment = now or datetime.now(UTC)
        who = Presentation(kind="visitor", subject=subject, name=masked, host_confirmed=visitor.host_confirmed)
        assessment = Assessment("", None, None, self._judge(who, direction, temperature, moment), who)
        return self._log(
            assessment, direction=direction, temperature=temperature, operator=operator, moment=moment, details=details
        )

    def present_companion(
        self,
        companion_of: Outcome,
        id_number: str,
        name: str,
        *,
        doc_type: str = RESIDENT_ID,
        temperature: float | None = None,
        operator: str = "",
        now: datetime | None = None,
    ) -> Outcome:
        """Someone without a phone who came with the person of `companion_of` (a logged entry): their own entry,
        linked to it (`companion_of` in the details), in the same direction, judged by every rule by their
        own ID number and never passing where that person did not. A child without an ID (`doc_type`
        CHILD_WITHOUT_ID, where the policy allows) is judged as a member of that person's household."""
        if companion_of.entry is None or companion_of.assessment.presentation is None:
            raise EntryInputError("id_number", _("nobody was logged to add a companion to"))
        first = companion_of.assessment.presentation
        masked = mask_name(_required("name", N_("the name"), name, MAX_NAME_CHARS))
        _check_temperature(temperature)
        moment = now or datetime.now(UTC)
        direction = Direction(companion_of.entry.row["direction"])
        details = {"companion_of": companion_of.entry.id}
        knows = None
        if doc_type == CHILD_WITHOUT_ID:
            age = self.policy.section(CompanionRules).child_without_id_under
            if not age:
                raise EntryInputError("id_number", _("this gate's policy needs an ID number for every companion"))
            subject = None
            adult = self.store.knowledge(first.subject, moment) if self.store else Knowledge()
            knows = Knowledge(resident=adult.resident, hq_pass=adult.hq_pass)  # the adult's outing, not another
            details["child_under"] = str(age)
        else:
            if problem := document_problem(id_number, doc_type):
                raise EntryInputError("id_number", problem)
            subject, sealed = self._identify(id_number, doc_type)
            details |= {"doc_type": doc_type} | sealed
        who = Presentation(
            kind="companion", subject=subject, name=masked, with_decision=companion_of.assessment.verdict.decision
        )
        verdict = self._judge(who, direction, temperature, moment, knows=knows)
        assessment = Assessment("", None, None, verdict, who)
        return self._log(
            assessment, direction=direction, temperature=temperature, operator=operator, moment=moment, details=details
        )

    def retake_temperature(
        self, previous: Outcome, temperature: float, *, operator: str = "", now: datetime | None = None
    ) -> Outcome:
        """Re-judge a logged presentation with a temperature taken right after it, and log the result as a
        new entry that amends the first (same direction, details carried over plus `amends`)."""
        if previous.entry is None:
            raise EntryInputError("temperature", _("nothing was logged to take a temperature for"))
        _check_temperature(temperature)
        moment = now or datetime.now(UTC)
        row = previous.entry.row
        direction = Direction(row["direction"])
        earlier = previous.assessment
        if earlier.presentation is None or earlier.presentation.kind not in TYPED_KINDS:
            assessment = self.assess_code(
                earlier.text, direction=direction, temperature=temperature, now=moment, ignoring=previous.entry.id
            )
        else:
            verdict = self._judge(earlier.presentation, direction, temperature, moment, ignoring=previous.entry.id)
            assessment = Assessment(earlier.text, None, None, verdict, earlier.presentation)
        details = json.loads(row["details"] or "{}") | {"amends": previous.entry.id}
        return self._log(
            assessment, direction=direction, temperature=temperature, operator=operator, moment=moment, details=details
        )


def open_gate(
    config: KioskConfig,
    *,
    db: Path | None = None,
    trust_dir: Path | None = None,
    trust_file: Path | None = None,
    read_only: bool = False,
) -> Gate:
    """Build a Gate from configuration. With `read_only` (for `check`), the database is only read: a missing one
    is not created, and one on a read-only disk still serves."""
    path = db or config.database
    if read_only:
        store = GateStore(path, config.gate_id, read_only=True) if path.exists() else None
    else:
        store = GateStore(path, config.gate_id)
    district_key = None
    if config.district_key_file is not None and not _deleted_here(store):
        district_key = load_district_key(config.district_key_file)
    in_force = RulesInForce(config, store, trust_dir=trust_dir, trust_file=trust_file)
    gate = Gate(store, in_force.current.trust, in_force.current.policy, district_key)
    gate.in_force = in_force
    in_force.watch(gate.put_in_force)
    follow_district(in_force.current.zone)  # times are read in the district's zone once HQ has named it
    in_force.watch(lambda rules: follow_district(rules.zone))
    return gate


def _deleted_here(store: GateStore | None) -> bool:
    """This gate deleted its district key itself (it has its own key from HQ): a configured path to it is not
    an error."""
    return store is not None and store.get_meta(id_keys.DISTRICT_KEY_DELETED) is not None
