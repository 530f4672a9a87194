"""`[freshness]`: how old the gate's lists and trusted keys may be, what a code checked against stale keys leads
to, and what a gate cut off from HQ for long does with everyone entering (`stale_lists`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from pydantic import Field, model_validator

from sync.core.i18n import N_, _
from sync.core.policy.rule import Rule, RuleSection
from sync.core.policy.verdicts import Case, Decision, Finding
from sync.core.wording import Wording

STALE_KEYS = Wording(
    "freshness.stale_keys",
    N_("trust list out of date"),
    N_("trust list is {hours:.0f} h old (freshness.keys_max_age_hours: {limit:g} h)"),
)
STALE_LISTS = Wording(
    "freshness.stale_lists",
    N_("red/yellow list out of date"),
    N_("red/yellow list is {hours:.0f} h old (freshness.lists_max_age_hours: {limit:g} h)"),
)
LISTS_CUT_OFF = Wording(
    "freshness.lists_cut_off",
    N_("red/yellow list long out of date"),
    N_("red/yellow list is {hours:.0f} h old (freshness.stale_lists_after_hours: {limit:g} h)"),
)
STALE_LISTS_WORDS = {"warn": N_("warn"), "hold": N_("hold"), "refuse": N_("refuse")}
"""`stale_lists` as its line in the rules in force reads (marked for translation; show it with `_()`)."""

DEFAULT_SECOND_AGE_HOURS = 72.0


class FreshnessRule(RuleSection):
    """How old the lists and trusted keys may be."""

    lists_max_age_hours: float = Field(24, gt=0)
    """The red/yellow list and roster are stale after this long without a sync from HQ."""
    keys_max_age_hours: float = Field(168, gt=0)
    """The trusted issuer keys are stale after this long without a sync from HQ (or a `trust import`)."""
    stale_keys: Decision = Decision.PASS
    """What a code verified against a stale trust list leads to: "pass" admits it with a warning shown,
    "hold" or "refuse" stop it (a revoked signer may still be in an old list)."""
    stale_lists_after_hours: float = Field(DEFAULT_SECOND_AGE_HOURS, gt=0)
    """A second, longer age of the red/yellow list and roster (at least `lists_max_age_hours`): past it,
    `stale_lists` decides what happens to everyone entering."""
    stale_lists: Literal["warn", "hold", "refuse"] = "warn"
    """Lists past `stale_lists_after_hours`: "warn" only shows it (on the gate screen, as past
    `lists_max_age_hours`), "hold" or "refuse" stop everyone entering until the gate syncs with HQ, so a gate
    cut off for days does not keep judging by an old red list."""

    @model_validator(mode="before")
    @classmethod
    def _second_age_defaults_to_no_shorter(cls, data: Any) -> Any:
        """A policy that raises only `lists_max_age_hours` past the default second age (as policies written
        before it existed may) stays valid: its second age is then the first."""
        if isinstance(data, dict) and "stale_lists_after_hours" not in data:
            first = data.get("lists_max_age_hours")
            if isinstance(first, int | float) and not isinstance(first, bool) and first > DEFAULT_SECOND_AGE_HOURS:
                return data | {"stale_lists_after_hours": first}
        return data

    @model_validator(mode="after")
    def _second_age_is_longer(self) -> FreshnessRule:
        if self.stale_lists_after_hours < self.lists_max_age_hours:
            raise ValueError(
                f"stale_lists_after_hours ({self.stale_lists_after_hours:g}) must be at least lists_max_age_hours "
                f"({self.lists_max_age_hours:g})"
            )
        return self

    def lines(self) -> list[tuple[str, str]]:
        return [
            (
                _("lists and keys"),
                _("lists stale after {lists:g} h, keys after {keys:g} h; a code checked against stale keys: {then}").format(
                    lists=self.lists_max_age_hours, keys=self.keys_max_age_hours, then=_(self.stale_keys.word)
                ),
            ),
            (
                _("lists long out of date"),
                _("after {hours:g} h: {then}").format(
                    hours=self.stale_lists_after_hours, then=_(STALE_LISTS_WORDS[self.stale_lists])
                ),
            ),
        ]

    def keys_stale(self, age: timedelta) -> bool:
        return age > timedelta(hours=self.keys_max_age_hours)

    def lists_decision(self, age: timedelta) -> Decision | None:
        """What lists of this age lead to for someone entering: None while they are fresh, PASS (a warning only)
        once stale, HOLD or REFUSE past the second age when `stale_lists` says so."""
        if age > timedelta(hours=self.stale_lists_after_hours) and self.stale_lists != "warn":
            return Decision(self.stale_lists)
        if age > timedelta(hours=self.lists_max_age_hours):
            return Decision.PASS
        return None


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


def stale_lists_findings(rule: FreshnessRule, case: Case) -> list[Finding]:
    """Lists HQ has not confirmed for long are a warning for everyone entering, and past the second age a hold or
    a refusal when `stale_lists` says so. Lists that never came from HQ have no age; people leaving are not
    held by what decides who comes in."""
    if case.lists_checked_at is None or case.leaving:
        return []
    age = case.now - case.lists_checked_at
    decision = rule.lists_decision(age)
    if decision is None:
        return []
    hours = round(age.total_seconds() / 3600)
    if decision is Decision.PASS:
        because = STALE_LISTS(hours=hours, limit=rule.lists_max_age_hours)
    else:
        because = LISTS_CUT_OFF(hours=hours, limit=rule.stale_lists_after_hours)
    return [Finding(decision, because, warning=True)]


def freshness_findings(rule: FreshnessRule, case: Case) -> list[Finding]:
    return stale_keys_findings(rule, case) + stale_lists_findings(rule, case)


RULE = Rule("freshness", FreshnessRule, freshness_findings, when_leaving=None)
