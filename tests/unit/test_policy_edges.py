"""The policy's limits at their edges (a limit reached is still within it; one second, minute or day past is
not) and the words of each reason, for every rule a certificate or code is judged by."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from sync.core.codes.base import Colour, Evidence, EvidenceKind, TestResult, TestType
from sync.core.policy import Decision, Direction, Knowledge, PassInfo, Policy, PolicyError, Presentation, judge, load_policy

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
RESIDENT = Knowledge(resident=True)


def certificate(*evidence: Evidence, policy: Policy | None = None) -> tuple[Decision, tuple[str, ...]]:
    who = Presentation(kind="certificate", subject=None, name="x", evidence=evidence)
    verdict = judge(policy or Policy(), who, RESIDENT, temperature=None, direction=Direction.IN, now=NOW)
    return verdict.decision, verdict.reasons


def naa(age: timedelta) -> Evidence:
    return Evidence(EvidenceKind.TEST, TestType.NAA, TestResult.NEGATIVE, NOW - age)


def test_a_test_exactly_as_old_as_allowed_counts_and_a_second_more_does_not() -> None:
    assert certificate(naa(timedelta(hours=72))) == (Decision.PASS, ("negative NAA test sampled 72 h ago", "resident"))
    assert certificate(naa(timedelta(hours=72, seconds=1))) == (
        Decision.REFUSE, ("negative NAA test sampled 72 h ago (certificates.naa_test_hours: 72 h)",))  # fmt: skip
    assert certificate(naa(timedelta(minutes=-5)))[0] is Decision.PASS  # the sampler's clock a little ahead
    assert certificate(naa(timedelta(minutes=-5, seconds=-1))) == (Decision.REFUSE, ("NAA test sample time is in the future",))
    assert certificate(naa(timedelta(hours=71, minutes=31)))[1][0] == "negative NAA test sampled 72 h ago"


def test_a_test_with_no_sample_time_is_unreadable() -> None:
    unreadable = Evidence(EvidenceKind.TEST, TestType.NAA, TestResult.NEGATIVE, None)
    assert certificate(unreadable) == (
        Decision.REFUSE, ("NAA test negative: not a test the gate can read",))  # fmt: skip


def test_a_vaccination_counts_from_the_first_to_the_last_day_allowed() -> None:
    policy = Policy.model_validate({"certificates": {"vaccination": True, "vaccination_min_days": 14, "vaccination_max_days": 270}})

    def dose(days: int) -> tuple[Decision, tuple[str, ...]]:
        shot = Evidence(EvidenceKind.VACCINATION, dose=2, doses=2, complete=True, vaccinated_on=NOW.date() - timedelta(days=days))
        return certificate(shot, policy=policy)

    assert dose(14) == (Decision.PASS, ("vaccinated, last dose 14 days ago", "resident"))
    assert dose(13) == (Decision.REFUSE, ("last dose 13 days ago (certificates.vaccination_min_days: 14)",))
    assert dose(270)[0] is Decision.PASS
    assert dose(271) == (Decision.REFUSE, ("last dose 271 days ago (certificates.vaccination_max_days: 270)",))


def test_a_recovery_counts_on_its_first_and_last_day() -> None:
    policy = Policy.model_validate({"certificates": {"recovery": True}})
    today = NOW.date()

    def recovered(start: date | None, end: date | None) -> tuple[Decision, tuple[str, ...]]:
        return certificate(Evidence(EvidenceKind.RECOVERY, valid_from=start, valid_until=end), policy=policy)

    assert recovered(today, today + timedelta(days=9)) == (
        Decision.PASS, (f"recovered, valid until {today + timedelta(days=9)}", "resident"))  # fmt: skip
    assert recovered(today - timedelta(days=9), today)[0] is Decision.PASS
    assert recovered(today + timedelta(days=1), today + timedelta(days=9))[0] is Decision.REFUSE
    assert recovered(today - timedelta(days=9), today - timedelta(days=1)) == (
        Decision.REFUSE, (f"recovery, valid {today - timedelta(days=9)} to {today - timedelta(days=1)}: not valid today",))  # fmt: skip
    assert recovered(today, None) == (Decision.REFUSE, ("recovery without validity dates",))
    assert recovered(None, today) == (Decision.REFUSE, ("recovery without validity dates",))
    assert certificate(Evidence(EvidenceKind.RECOVERY, valid_from=today, valid_until=today)) == (
        Decision.REFUSE, ("a recovery does not count here (certificates.recovery = false)",))  # fmt: skip


def test_a_pass_rests_on_the_first_entry_that_counts() -> None:
    assert certificate(naa(timedelta(hours=2)), naa(timedelta(hours=5))) == (
        Decision.PASS, ("negative NAA test sampled 2 h ago", "resident"))  # fmt: skip


def test_trust_exactly_as_old_as_allowed_is_no_warning() -> None:
    who = Presentation(kind="code", subject="ab" * 16, name="x", colour=Colour.GREEN)
    verdict = judge(Policy(), who, RESIDENT, temperature=36.61, direction=Direction.IN, now=NOW,
                    trust_updated_at=NOW - timedelta(hours=168))  # fmt: skip
    assert (verdict.decision, verdict.reasons, verdict.colour, verdict.warnings) == (
        Decision.PASS, ("green code", "temperature 36.6 °C", "resident"), Colour.GREEN, ())  # fmt: skip


def test_a_negative_test_exactly_as_old_as_required_counts() -> None:
    policy = Policy.model_validate({"negative_test": {"required": True, "max_age_hours": 48}})
    who = Presentation(kind="code", subject="ab" * 16, name="x", colour=Colour.GREEN, negative_test_at=NOW - timedelta(hours=48))
    verdict = judge(policy, who, RESIDENT, temperature=None, direction=Direction.IN, now=NOW)
    assert verdict.reasons == ("green code", "negative test 48 h ago", "resident")


def test_a_tests_age_is_rounded_to_the_nearest_hour() -> None:
    policy = Policy.model_validate({"negative_test": {"required": True, "max_age_hours": 72}})
    tested = NOW - timedelta(hours=48, minutes=30, seconds=2)
    who = Presentation(kind="code", subject="ab" * 16, name="x", colour=Colour.GREEN, negative_test_at=tested)
    verdict = judge(policy, who, RESIDENT, temperature=None, direction=Direction.IN, now=NOW)
    assert "negative test 49 h ago" in verdict.reasons


def test_a_pass_ending_now_has_ended() -> None:
    who = Presentation(kind="code", subject="ab" * 16, name="x", colour=Colour.GREEN)
    ending = Knowledge(hq_pass=PassInfo("staff", NOW))
    verdict = judge(Policy(), who, ending, temperature=None, direction=Direction.IN, now=NOW)
    assert verdict.reasons == ("not a resident and no valid pass from HQ",)


def test_a_policy_file_with_several_problems_names_each(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text('[temperature]\nrefuse_at_or_above = "hot"\n[colours]\ngreen = "maybe"\n', encoding="utf-8")
    with pytest.raises(PolicyError) as caught:
        load_policy(path)
    assert str(caught.value).count("; ") == 1 and "temperature.refuse_at_or_above" in str(caught.value)
    assert "'refuse'; temperature.refuse_at_or_above: " in str(caught.value)
    path.write_text('# 温度\n[temperature]\nrefuse_at_or_above = 37.5\n', encoding="utf-8")
    assert load_policy(path).temperature.refuse_at_or_above == 37.5
