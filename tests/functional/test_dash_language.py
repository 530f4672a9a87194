"""The dashboard in the reader's language: a reason logged at a real gate reaches HQ as a rule code with its
parameters and is worded there in each staff member's language (the district's, or the account's own), counted
under the same label the gate's handover gives it; CSV headers and reasons follow the reader too."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from tests.dash_testkit import Staff, make_user
from tests.sync_testkit import (  # noqa: F401
    MakeGate,
    RunningHq,
    hq_db_url,
    issuer_keys,
    make_gate,
    signing_key_file,
    start_hq,
)

from kiosk.gate import open_gate
from kiosk.keeper_locale import DOMAINS as GATE_DOMAINS
from kiosk.shift import ShiftTally
from sync.core.i18n import speaking
from sync.core.policy import Direction
from sync.core.refusals import kind_label
from sync.core.wording import say
from sync.hq.staff import set_language

ZONE = ZoneInfo("Asia/Shanghai")
VISITOR = "110101199001010015"


@pytest.fixture
def chinese_hq(hq_db_url: str, signing_key_file: Path) -> Iterator[RunningHq]:
    """A live HQ whose district reads Chinese, in Asia/Shanghai, with a viewer on the district's language and an
    admin who chose English."""
    for running in start_hq(hq_db_url, signing_key_file, timezone="Asia/Shanghai", language="zh_CN"):
        make_user(running.db, "vera")
        make_user(running.db, "ada")
        set_language(running.db, "ada", "en")
        yield running


def _refusal_at_the_gate(running: RunningHq, make_gate: MakeGate, issuer_keys: Path) -> tuple[list[str], list[str]]:
    """A visitor with a fever typed in at north-gate, refused there and synced to HQ: the entry's reasons as the
    gate holds them (English sentences carrying their codes), and the labels the gate's handover counts them by."""
    gate = make_gate(running, "north-gate", district_key_file=str(issuer_keys / "district.key"))
    judge = open_gate(gate.config)
    try:
        outcome = judge.present_manual(VISITOR, "Chen Yi", direction=Direction.IN, temperature=38.2, operator="li01")
    finally:
        assert judge.store is not None
        judge.store.close()
    assert outcome.entry is not None
    gate.sync()
    with gate.store() as store:
        rows = store.rows("entries")
    kinds = [kind for kind, _count in ShiftTally().add_all(rows).refusals_by_reason()]
    return list(outcome.assessment.verdict.reasons), kinds


def _labels(html: str) -> list[str]:
    block = re.search(r'<ol class="reason-labels">(.*?)</ol>', html, re.S)
    assert block, "the overview shows no refusals by reason"
    return re.findall(r"<li>(.*?)</li>", block.group(1))


def _reason_cells(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r'<td class="reasons-cell">(.*?)</td>', html, re.S)]


def _window() -> dict[str, str]:
    now = datetime.now(UTC).astimezone(ZONE)
    return {"from": (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "to": (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")}


def test_a_reason_logged_at_the_gate_is_read_in_chinese_at_hq_and_in_english_by_an_english_account(
    chinese_hq: RunningHq, make_gate: MakeGate, issuer_keys: Path
) -> None:
    reasons, kinds = _refusal_at_the_gate(chinese_hq, make_gate, issuer_keys)
    assert "temperature.too_high" in kinds and "access.no_pass" in kinds
    with speaking("zh_CN", GATE_DOMAINS):
        gate_labels = [kind_label(kind) for kind in kinds]  # as the gate's handover shows them
        gate_words = [say(reason, ZONE) for reason in reasons]  # as the gate's banner and log word them
    english_labels = [kind_label(kind) for kind in kinds]
    assert "体温过高" in gate_labels and "temperature too high" in english_labels

    vera, ada = Staff(chinese_hq.url, "vera"), Staff(chinese_hq.url, "ada")
    try:
        chinese, english = vera.get("/"), ada.get("/")
        assert '<html lang="zh-CN">' in chinese.text and "全区总览" in chinese.text
        assert '<html lang="en">' in english.text and "District overview" in english.text
        assert sorted(_labels(chinese.text)) == sorted(gate_labels)
        assert sorted(_labels(english.text)) == sorted(english_labels)

        window = {"gate": "north-gate", **_window()}
        assert _reason_cells(vera.get("/trace/gate", **window).text) == ["；".join(html_text(w) for w in gate_words)]
        assert _reason_cells(ada.get("/trace/gate", **window).text) == ["; ".join(html_text(r) for r in reasons)]
        assert any("38.2" in word and "°C" in word for word in gate_words)

        rows = list(csv.reader(io.StringIO(vera.get("/trace/gate.csv", **window).text.lstrip("\ufeff"))))
        assert rows[0][:7] == ["时间", "时间（UTC）", "门岗", "方向", "结果", "码色", "原因"]
        assert rows[1][3:5] == ["进", "禁止"] and rows[1][6] == "；".join(gate_words)
        assert rows[1][0].endswith("+08:00")
        english_rows = list(csv.reader(io.StringIO(ada.get("/trace/gate.csv", **window).text.lstrip("\ufeff"))))
        assert english_rows[0][:7] == ["time", "time_utc", "gate", "direction", "verdict", "colour", "reasons"]
        assert english_rows[1][3:5] == ["in", "refuse"] and english_rows[1][6] == "; ".join(reasons)

        assert vera.post("/account/language", {"language": "en", "next": "/"}).status_code == 303
        assert sorted(_labels(vera.get("/").text)) == sorted(english_labels)
        assert vera.post("/account/language", {"language": "", "next": "/"}).status_code == 303
        assert sorted(_labels(vera.get("/").text)) == sorted(gate_labels)
        refused = vera.post("/account/language", {"language": "fr", "next": "/"})
        assert refused.status_code == 400 and "zh_CN" in refused.text
    finally:
        vera.close()
        ada.close()


def html_text(text: str) -> str:
    """`text` as the page escapes it (the reasons hold quotes and ampersands)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;").replace("'", "&#39;")

