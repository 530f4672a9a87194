"""`[freshness]`: how old the gate's lists and trusted keys may be, and what a code checked against stale keys
leads to."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from sync.core.i18n import N_, _
from sync.core.policy.rule import Rule, RuleSection
from sync.core.policy.verdicts import Case, Decision, Finding
from sync.core.wording import Wording

STALE_KEYS = Wording(
    "freshness.stale_keys",
    N_("trust list out of date"),
    N_("trust list is {hours:.0f} h old (freshness.keys_max_age_hours: {limit:g} h)"),
)


class FreshnessRule(RuleSection):
    """How old the lists and trusted keys may be."""

    lists_max_age_hours: float = Field(24, gt=0)
    """The red/yellow list and roster are stale after this long without a sync from HQ."""
    keys_max_age_hours: float = Field(168, gt=0)
    """The trusted issuer keys are stale after this long without a sync from HQ (or a `trust import`)."""
    stale_keys: Decision = Decision.PASS
    """What a code verified against a stale trust list leads to: "pass" admits it with a warning shown,
    "hold" or "refuse" stop it (a revoked signer may still be in an old list)."""

    def lines(self) -> list[tuple[str, str]]:
        return [
            (
                _("lists and keys"),
                _("lists stale after {lists:g} h, keys after {keys:g} h; a code checked against stale keys: {then}").format(
                    lists=self.lists_max_age_hours, keys=self.keys_max_age_hours, then=_(self.stale_keys.word)
                ),
            )
        ]

    def keys_stale(self, age: timedelta) -> bool:
        return age > timedelta(hours=self.keys_max_age_hours)


def stale_keys_findings(rule: FreshnessRule, case: Case) -> list[Finding]:
    """A code verified against a stale trust list is always a warning; `stale_keys` says whether it also holds
    or refuses. Typed entries verify no code, and keys from files have no age."""
    if case.who.kind not in ("code", "certificate") or case.trust_updated_at is None:
        return []
    age = case.now - case.trust_updated_at
    if not rule.keys_stale(age):
        return []
    hours = round(age.total_seconds() / 3600)
    return [Finding(rule.stale_keys, STALE_KEYS(hours=hours, limit=rule.keys_max_age_hours), warning=True)]


RULE = Rule("freshness", FreshnessRule, stale_keys_findings, when_leaving=None)
