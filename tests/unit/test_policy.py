"""Every policy rule on its own, plus the policy file and its defaults."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sync.core.codes import Colour
from sync.core.policy import (
    Decision,
    Direction,
    Knowledge,
    PassInfo,
    Policy,
    PolicyError,
    Presentation,
    Verdict,
    judge,
    load_policy,
)

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[2]
RESIDENT = Knowledge(resident=True)


def code(colour: Colour = Colour.GREEN, **kw: object) -> Presentation:
    return Presentation(kind="code", subject="s" * 32, name="Z* S*", colour=colour, **kw)  # type: ignore[arg-type]


def verdict(
    who: Presentation,
    knows: Knowledge = RESIDENT,
    policy: Policy | None = None,
    temperature: float | None = None,
    direction: Direction = Direction.IN,
) -> Verdict:
    return judge(policy or Policy(), who, knows, temperature=temperature, direction=direction, now=NOW)


def test_green_resident_passes_with_reasons() -> None:
    result = verdict(code())
    assert result.decision is Decision.PASS
    assert result.reasons == ("green code", "resident")


@pytest.mark.parametrize("colour", [Colour.YELLOW, Colour.RED])
def test_yellow_and_red_are_refused(colour: Colour) -> None:
    result = verdict(code(colour))
    assert result.decision is Decision.REFUSE
    assert result.reasons == (f"{colour.value} code",)


def test_policy_can_hold_yellow() -> None:
    policy = Policy.model_validate({"colours": {"yellow": "hold"}})
    assert verdict(code(Colour.YELLOW), policy=policy).decision is Decision.HOLD


def test_red_list_overrides_a_green_code() -> None:
    result = verdict(code(), Knowledge(resident=True, listed_colour=Colour.RED))
    assert result.decision is Decision.REFUSE
    assert result.colour is Colour.RED
    assert result.reasons == ("on HQ's red list (code shows green)",)


def test_green_list_entry_lifts_a_yellow_code() -> None:
    assert verdict(code(Colour.YELLOW), Knowledge(resident=True, listed_colour=Colour.GREEN)).decision is Decision.PASS


def test_negative_test_required_and_too_old() -> None:
    policy = Policy.model_validate({"negative_test": {"required": True, "max_age_hours": 72}})
    fresh = verdict(code(negative_test_at=NOW - timedelta(hours=71)), policy=policy)
    stale = verdict(code(negative_test_at=NOW - timedelta(hours=73)), policy=policy)
    missing = verdict(code(), policy=policy)
    assert fresh.decision is Decision.PASS and "negative test 71 h ago" in fresh.reasons
    assert stale.decision is Decision.REFUSE and stale.reasons == ("negative test is 73 h old (limit 72 h)",)
    assert missing.decision is Decision.REFUSE and missing.reasons == ("no negative test on record",)


def test_old_test_is_ignored_when_not_required() -> None:
    assert verdict(code(negative_test_at=NOW - timedelta(days=30))).decision is Decision.PASS


def test_temperature_threshold_is_inclusive() -> None:
    assert verdict(code(), temperature=37.2).decision is Decision.PASS
    hot = verdict(code(), temperature=37.3)
    assert hot.decision is Decision.REFUSE
    assert hot.reasons == ("temperature 37.3 °C (limit below 37.3 °C)",)


@pytest.mark.parametrize("reading", [math.nan, math.inf, -math.inf, -5.0, 0.0, -0.0, 29.9, 45.1])
def test_a_reading_no_person_has_never_passes_the_temperature_rule(reading: float) -> None:
    result = verdict(code(), temperature=reading)

    assert result.decision is Decision.HOLD
    assert result.reasons[0].startswith("temperature reading is not plausible: take it again")
    assert "between 30 and 45" in result.reasons[0]


@pytest.mark.parametrize("limit", ["nan", "inf", "29", "46"])
def test_a_temperature_limit_outside_the_range_of_readings_is_refused(limit: str) -> None:
    with pytest.raises(ValueError, match="refuse_at_or_above"):
        Policy.model_validate({"temperature": {"refuse_at_or_above": float(limit)}})


def test_required_temperature_holds_when_missing() -> None:
    policy = Policy.model_validate({"temperature": {"required": True}})
    result = verdict(code(), policy=policy)
    assert result.decision is Decision.HOLD and result.reasons == ("temperature not taken",)


def test_non_resident_needs_a_valid_pass() -> None:
    stranger = verdict(code(), Knowledge())
    assert stranger.decision is Decision.REFUSE
    assert stranger.reasons == ("not a resident and no valid pass from HQ",)
    staff = verdict(code(), Knowledge(hq_pass=PassInfo(kind="staff", valid_until=NOW + timedelta(days=1))))
    assert staff.decision is Decision.PASS and "staff pass until 2026-11-24 09:00 UTC" in staff.reasons
    lapsed = verdict(code(), Knowledge(hq_pass=PassInfo(kind="staff", valid_until=NOW - timedelta(minutes=1))))
    assert lapsed.decision is Decision.REFUSE


@pytest.mark.parametrize(
    ("without_pass", "unconfirmed"), [("refuse", Decision.REFUSE), ("hold", Decision.HOLD), ("pass", Decision.HOLD)]
)
def test_a_visitor_needs_the_host_s_confirmation_where_the_policy_asks(without_pass: str, unconfirmed: Decision) -> None:
    policy = Policy.model_validate({"access": {"host_confirmation": True, "non_resident_without_pass": without_pass}})
    visitor = Presentation(kind="visitor", subject=None, name="Z* B*")

    asked = verdict(visitor, Knowledge(), policy)
    confirmed = verdict(Presentation(kind="visitor", subject=None, name="Z* B*", host_confirmed=True), Knowledge(), policy)
    with_pass = verdict(visitor, Knowledge(hq_pass=PassInfo(kind="visitor", valid_until=NOW + timedelta(hours=1))), policy)
    stranger = verdict(code(), Knowledge(), policy)  # a code's holder, not a registered visitor: as ever

    assert (asked.decision, asked.reasons[0].startswith("visit not confirmed by the host")) == (unconfirmed, True)
    assert (confirmed.decision, confirmed.reasons[-1]) == (Decision.PASS, "visit confirmed by the host by phone")
    assert with_pass.decision is Decision.PASS and "visitor pass until" in with_pass.reasons[-1]
    assert stranger.decision is Decision(without_pass)


def test_travel_risk_is_refused() -> None:
    result = verdict(code(travel_risk=True))
    assert result.decision is Decision.REFUSE
    assert result.reasons == ("stayed in a medium/high risk area within 14 days",)


def test_every_failing_reason_is_reported_most_severe_first() -> None:
    policy = Policy.model_validate({"colours": {"yellow": "hold"}})
    result = verdict(code(Colour.YELLOW, travel_risk=True), Knowledge(), policy=policy, temperature=38.0)
    assert result.decision is Decision.REFUSE
    assert result.reasons == (
        "stayed in a medium/high risk area within 14 days",
        "temperature 38.0 °C (limit below 37.3 °C)",
        "not a resident and no valid pass from HQ",
        "yellow code",
    )


def test_leaving_skips_access_and_temperature_but_not_colour() -> None:
    assert verdict(code(), Knowledge(), temperature=39.0, direction=Direction.OUT).decision is Decision.PASS
    assert verdict(code(Colour.RED), direction=Direction.OUT).decision is Decision.REFUSE
    relaxed = Policy.model_validate({"exit": {"check_health": False}})
    assert verdict(code(Colour.RED), policy=relaxed, direction=Direction.OUT).reasons == ("leaving",)


def test_manual_entry_uses_the_red_list() -> None:
    manual = Presentation(kind="manual", subject="m" * 32, name="L* S*")
    assert verdict(manual).decision is Decision.PASS
    assert verdict(manual).reasons[0] == "not on HQ's red/yellow list"
    assert verdict(manual, Knowledge(resident=True, listed_colour=Colour.YELLOW)).decision is Decision.REFUSE


def test_policy_file_in_repo_states_the_defaults() -> None:
    assert load_policy(REPO / "config" / "policy.toml") == Policy()


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("[colours]\nyelow = 'hold'\n", "colours.yelow"),
        ("[temperature]\nrefuse_at_or_above = 'hot'\n", "temperature.refuse_at_or_above"),
        ("[colours\n", "not valid TOML"),
        ("[colours]\nred = 'maybe'\n", "colours.red"),
    ],
)
def test_bad_policy_file_gives_a_clear_error(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(content)
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert fragment in str(caught.value)


def test_missing_policy_file(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="cannot read policy file"):
        load_policy(tmp_path / "nope.toml")
