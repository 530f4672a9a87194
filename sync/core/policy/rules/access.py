"""`[access]`: residents pass; others need a valid pass from HQ."""

from __future__ import annotations

from sync.core.i18n import N_, _
from sync.core.policy.rule import Rule, RuleSection
from sync.core.policy.verdicts import Case, Decision, Finding
from sync.core.wording import Wording

RESIDENT = Wording("access.resident", N_("resident"), N_("resident"))
HQ_PASS = Wording("access.hq_pass", N_("HQ pass"), N_("{kind} pass until {until}"), times=("until",), words=("kind",))
NO_PASS = Wording("access.no_pass", N_("no valid pass"), N_("not a resident and no valid pass from HQ"))
HOST_CONFIRMED = Wording("access.host_confirmed", N_("host confirmed"), N_("visit confirmed by the host by phone"))
HOST_UNCONFIRMED = Wording(
    "access.host_unconfirmed",
    N_("host not confirmed"),
    N_("visit not confirmed by the host: call the household, then tick \"host confirmed by phone\""),
)
N_("staff")
N_("visitor")
N_("courier")
N_("vehicle")


class AccessRule(RuleSection):
    """Who may come in besides the residents."""

    non_resident_without_pass: Decision = Decision.REFUSE
    """Someone not on the roster and without a valid HQ pass (staff, special vehicles, visitors)."""

    host_confirmation: bool = False
    """Visitors without an HQ pass need their host's confirmation: the registration form shows the household's
    phone from the roster, and a visitor passes once the keeper ticks "host confirmed by phone" (logged with
    the keeper's id); unconfirmed, a visitor is held, or refused where non-residents without a pass are."""

    def lines(self) -> list[tuple[str, str]]:
        lines = [(_("non-resident without pass"), _(self.non_resident_without_pass.word))]
        if self.host_confirmation:
            lines.append((_("visitors"), _("pass once their host confirms by phone")))
        return lines


def access_findings(rule: AccessRule, case: Case) -> list[Finding]:
    knows, now = case.knows, case.now
    if knows.resident:
        return [Finding(Decision.PASS, RESIDENT())]
    if knows.hq_pass is not None and knows.hq_pass.valid_until > now:
        return [Finding(Decision.PASS, HQ_PASS(kind=knows.hq_pass.kind, until=knows.hq_pass.valid_until))]
    if rule.host_confirmation and case.who.kind == "visitor":
        if case.who.host_confirmed:
            return [Finding(Decision.PASS, HOST_CONFIRMED())]
        return [Finding(max(rule.non_resident_without_pass, Decision.HOLD, key=lambda d: d.severity), HOST_UNCONFIRMED())]
    return [Finding(rule.non_resident_without_pass, NO_PASS())]


RULE = Rule("access", AccessRule, access_findings, when_leaving="access")
