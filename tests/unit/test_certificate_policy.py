"""The policy's certificate rules (which entries count, for how long) and the stale trust-list warning; each
reason names the rule that decided."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from sync.core.codes.base import Evidence, EvidenceKind, TestResult, TestType
from sync.core.policy import (
    CertificateRules,
    Decision,
    Direction,
    FreshnessRule,
    Knowledge,
    Policy,
    PolicyError,
    Presentation,
    Verdict,
    judge,
    load_policy,
)
from tests.standards_certs import NOW

REPO = Path(__file__).resolve().parents[2]


def naa(hours_ago: float, result: TestResult = TestResult.NEGATIVE) -> Evidence:
    return Evidence(EvidenceKind.TEST, TestType.NAA, result, sampled_at=NOW - timedelta(hours=hours_ago))


def rapid(hours_ago: float) -> Evidence:
    return Evidence(EvidenceKind.TEST, TestType.RAPID, TestResult.NEGATIVE, sampled_at=NOW - timedelta(hours=hours_ago))


def vaccinated(days_ago: int, complete: bool = True) -> Evidence:
    return Evidence(
        EvidenceKind.VACCINATION, dose=2 if complete else 1, doses=2, complete=complete,
        vaccinated_on=(NOW - timedelta(days=days_ago)).date(),
    )  # fmt: skip


def recovered(valid_from: date, valid_until: date) -> Evidence:
    return Evidence(EvidenceKind.RECOVERY, valid_from=valid_from, valid_until=valid_until)


def verdict(*evidence: Evidence, policy: Policy | None = None, **kwargs: object) -> Verdict:
    who = Presentation(kind="certificate", subject=None, name="J*** D**", evidence=evidence)
    return judge(
        policy or Policy(),
        who,
        Knowledge(resident=True),
        temperature=None,
        direction=Direction.IN,
        now=NOW,
        **kwargs,  # type: ignore[arg-type]
    )


def test_negative_naa_test_within_72_hours_passes() -> None:
    result = verdict(naa(71))
    assert result.decision is Decision.PASS
    assert result.reasons == ("negative NAA test sampled 71 h ago", "resident")
    assert result.colour is None


def test_naa_test_older_than_72_hours_is_refused_naming_the_rule() -> None:
    result = verdict(naa(73))
    assert result.decision is Decision.REFUSE
    assert result.reasons == ("negative NAA test sampled 73 h ago (certificates.naa_test_hours: 72 h)",)


def test_rapid_test_within_24_hours_only() -> None:
    assert verdict(rapid(23)).decision is Decision.PASS
    late = verdict(rapid(25))
    assert late.decision is Decision.REFUSE
    assert "certificates.rapid_test_hours: 24 h" in late.reasons[0]


def test_a_kind_of_test_the_policy_turns_off() -> None:
    policy = Policy(certificates=CertificateRules(rapid_test=False))
    result = verdict(rapid(1), policy=policy)
    assert result.reasons == ("a rapid antigen test does not count here (certificates.rapid_test = false)",)


def test_positive_test_is_always_refused() -> None:
    lenient = Policy(certificates=CertificateRules(nothing_counts=Decision.PASS, vaccination=True))
    result = verdict(naa(2, TestResult.POSITIVE), vaccinated(30), policy=lenient)
    assert result.decision is Decision.REFUSE
    assert "a positive test never admits" in result.reasons[0]


def test_unreadable_or_future_tests_do_not_count() -> None:
    unknown = Evidence(EvidenceKind.TEST, None, TestResult.NEGATIVE, sampled_at=NOW - timedelta(hours=1))
    assert "not a test the gate can read" in verdict(unknown).reasons[0]
    assert "in the future" in verdict(naa(-2)).reasons[0]


def test_vaccination_does_not_count_by_default() -> None:
    result = verdict(vaccinated(30))
    assert result.decision is Decision.REFUSE
    assert result.reasons == ("a vaccination does not count here (certificates.vaccination = false)",)


@pytest.mark.parametrize(
    ("days", "complete", "decision", "words"),
    [
        (30, True, Decision.PASS, "vaccinated, last dose 30 days ago"),
        (10, True, Decision.REFUSE, "certificates.vaccination_min_days: 14"),
        (300, True, Decision.REFUSE, "certificates.vaccination_max_days: 270"),
        (30, False, Decision.REFUSE, "series not complete"),
    ],
)
def test_vaccination_window_when_it_counts(days: int, complete: bool, decision: Decision, words: str) -> None:
    result = verdict(vaccinated(days, complete), policy=Policy(certificates=CertificateRules(vaccination=True)))
    assert result.decision is decision
    assert words in result.reasons[0]


def test_recovery_counts_within_its_own_dates_when_allowed() -> None:
    policy = Policy(certificates=CertificateRules(recovery=True))
    today = NOW.date()
    assert (
        verdict(recovered(today - timedelta(days=5), today + timedelta(days=5)), policy=policy).decision
        is Decision.PASS
    )
    assert (
        "not valid today"
        in verdict(recovered(today + timedelta(days=1), today + timedelta(days=9)), policy=policy).reasons[0]
    )
    assert "certificates.recovery = false" in verdict(recovered(today, today)).reasons[0]


def test_one_counting_entry_is_enough() -> None:
    result = verdict(vaccinated(30), naa(5))
    assert result.decision is Decision.PASS
    assert result.reasons[0] == "negative NAA test sampled 5 h ago"


def test_nothing_counts_decision_and_every_reason() -> None:
    policy = Policy(certificates=CertificateRules(nothing_counts=Decision.HOLD))
    result = verdict(naa(100), rapid(30), policy=policy)
    assert result.decision is Decision.HOLD
    assert len(result.reasons) == 2


def test_certificate_with_no_covid_entries() -> None:
    assert verdict().reasons == ("certificate holds no COVID-19 test, vaccination or recovery",)


def test_certificate_holder_who_is_not_a_resident_still_needs_a_pass() -> None:
    who = Presentation(kind="certificate", subject=None, name="J*** D**", evidence=(naa(5),))
    result = judge(Policy(), who, Knowledge(), temperature=None, direction=Direction.IN, now=NOW)
    assert result.decision is Decision.REFUSE
    assert result.reasons == ("not a resident and no valid pass from HQ",)


def test_negative_test_rule_also_reads_a_certificates_naa_test() -> None:
    policy = Policy.model_validate({"negative_test": {"required": True, "max_age_hours": 48}})
    who = Presentation(
        kind="certificate", subject=None, name="x", evidence=(naa(60),), negative_test_at=NOW - timedelta(hours=60)
    )
    result = judge(policy, who, Knowledge(resident=True), temperature=None, direction=Direction.IN, now=NOW)
    assert result.decision is Decision.REFUSE
    assert result.reasons == ("negative test is 60 h old (limit 48 h)",)


def test_stale_trust_list_warns_and_the_policy_decides() -> None:
    stale_since = NOW - timedelta(hours=200)
    admitted = verdict(naa(5), trust_updated_at=stale_since)
    assert admitted.decision is Decision.PASS
    assert admitted.warnings == ("trust list is 200 h old (freshness.keys_max_age_hours: 168 h)",)
    strict = Policy(freshness=FreshnessRule(stale_keys=Decision.HOLD))
    held = verdict(naa(5), policy=strict, trust_updated_at=stale_since)
    assert held.decision is Decision.HOLD
    assert held.reasons == admitted.warnings and held.warnings == admitted.warnings
    fresh = verdict(naa(5), policy=strict, trust_updated_at=NOW - timedelta(hours=2))
    assert fresh.decision is Decision.PASS and fresh.warnings == ()


def test_stale_trust_list_does_not_touch_manual_entries() -> None:
    who = Presentation(kind="manual", subject="ab" * 16, name="x")
    result = judge(
        Policy(freshness=FreshnessRule(stale_keys=Decision.REFUSE)), who, Knowledge(resident=True),
        temperature=None, direction=Direction.IN, now=NOW, trust_updated_at=NOW - timedelta(days=30),
    )  # fmt: skip
    assert result.decision is Decision.PASS and result.warnings == ()


def test_policy_file_matches_the_defaults_and_rejects_bad_windows(tmp_path: Path) -> None:
    assert load_policy(REPO / "config" / "policy.toml") == Policy()
    bad = tmp_path / "policy.toml"
    bad.write_text("[certificates]\nvaccination_min_days = 300\nvaccination_max_days = 200\n")
    with pytest.raises(PolicyError, match="vaccination_max_days"):
        load_policy(bad)
    bad.write_text("[certificates]\nnaa_tests = true\n")
    with pytest.raises(PolicyError, match="naa_tests"):
        load_policy(bad)


def test_leaving_is_only_stopped_by_a_positive_test() -> None:
    def leaving(*evidence: Evidence) -> Verdict:
        who = Presentation(kind="certificate", subject=None, name="x", evidence=evidence)
        return judge(Policy(), who, Knowledge(), temperature=None, direction=Direction.OUT, now=NOW)

    assert leaving(naa(500)).decision is Decision.PASS
    assert leaving().decision is Decision.PASS
    assert leaving(naa(1, TestResult.POSITIVE)).decision is Decision.REFUSE
