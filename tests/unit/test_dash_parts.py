"""The dashboard's small parts on their own: reason labels, charts, CSV cells, the district clock, page cursors."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

from sync.core.csvcell import safe_cell
from sync.hq.paging import CursorError, decode_cursor, encode_cursor
from sync.core.refusals import kind_label, reason_kind, reasons_of
from sync.hq.stats import Counts
from sync.hq.web import charts, csvout
from sync.hq.web.clock import DistrictClock
from sync.hq.web.signin_limits import DEVICE_DAYS, SignInLimits


@pytest.mark.parametrize(
    ("reason", "kind", "label"),
    [
        ("temperature 38.2 °C (limit below 37.3 °C)", "temperature.too_high", "temperature too high"),
        ("negative test is 80 h old (limit 72 h)", "negative_test.too_old", "negative test too old"),
        ("code has expired: valid until 2024-01-02 08:00 UTC", "code.expired", "code has expired"),
        ("negative NAA test sampled 80 h ago (certificates.naa_test_hours: 72 h)", "certificates.test_too_old",
         "test too old"),
        ("on HQ's red list (code shows green)", "colours.red_listed", "on HQ's red list"),
        ("not a resident and no valid pass from HQ", "access.no_pass", "no valid pass"),
        ("trust list is 30 h old (freshness.keys_max_age_hours: 24 h)", "freshness.stale_keys", "trust list out of date"),
        ("bad\x1b[31m code\n", "bad [Nm code", "bad [Nm code"),
        ("", "(no reason given)", "(no reason given)"),
        ("x" * 500, "x" * 120, "x" * 120),
    ],
)
def test_reasons_group_by_rule_code_as_at_the_gate_without_their_numbers(reason: str, kind: str, label: str) -> None:
    """An English sentence logged before reasons had codes is counted under its rule's code and labelled as the
    gate labels it; text no rule worded is counted as itself, without its numbers."""
    assert reason_kind(reason) == kind
    assert kind_label(kind) == label


def test_reasons_that_are_not_a_json_list_still_count() -> None:
    assert reasons_of('["red code", "resident"]') == ["red code", "resident"]
    assert reasons_of("not json") == ["not json"]
    assert reasons_of('{"a": 1}') == ['{"a": 1}']
    assert reasons_of("[1, 2]") == ["[1, 2]"]


@pytest.mark.parametrize(("value", "top"), [(0, 1), (1, 1), (7, 10), (11, 20), (26, 50), (100, 100), (101, 200)])
def test_chart_axes_end_on_a_round_number(value: int, top: int) -> None:
    assert charts.nice_ceiling(value) == top


def test_bars_stack_let_in_left_and_stopped_to_the_attempts() -> None:
    counts = {
        "a": Counts(entries_in=30, entries_out=10, refused=5, let_in=25, left=10),
        "b": Counts(entries_in=5, let_in=5),
    }

    chart = charts.bars(["a", "b", "c"], counts, str.upper, width=300, height=120)

    first, _, third = chart.bars
    base = 120 - 24
    inn, out, stopped = first.segments
    assert (inn.css, out.css, stopped.css) == ("in", "out", "stopped")
    assert inn.y + inn.height == pytest.approx(base) and out.y + out.height == pytest.approx(inn.y, abs=0.2)
    assert stopped.y + stopped.height == pytest.approx(out.y, abs=0.2)
    assert stopped.y == pytest.approx(10 + 86 * (1 - 40 / 50), abs=0.2)  # 40 attempts of an axis topped at 50
    assert first.title == "A: 40 attempts: 25 let in, 10 left, 5 refused, 0 held"
    assert third.segments == [] and third.title == "C: 0 attempts: 0 let in, 0 left, 0 refused, 0 held"
    assert [label.text for label in chart.x_labels] == ["A", "B", "C"]
    assert [label.text for label in chart.y_labels] == ["50", "25", "0"]


def test_a_sparkline_scales_to_its_own_busiest_hour() -> None:
    line = charts.sparkline(["h1", "h2"], {"h1": Counts(entries_in=4), "h2": Counts(entries_in=2, refused=1)}, height=28)

    assert line.bars[0].segments[0].height == 26 and line.bars[1].segments[0].height == 13
    assert line.description == "6 attempts today, by hour"


@pytest.mark.parametrize(
    ("value", "cell"),
    [("=1+2", "'=1+2"), ("+CMD", "'+CMD"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
     (" =1+2", "' =1+2"), ("\u3000\u00a0=1", "'\u3000\u00a0=1"), ("\t=1", "\\x09=1"), ("\x1b]0;x\x07", "\\x1b]0;x\\x07"),
     ("\u202eevil", "\\u202eevil"), ("plain", "plain"), (None, ""), (36.6, "36.6"), (-1, "-1"), (True, "True")],
)
def test_csv_cells_that_a_spreadsheet_would_run_or_a_terminal_obey_are_defused(value: object, cell: str) -> None:
    assert safe_cell(value) == cell


def test_csv_lines_are_the_same_whatever_the_batch() -> None:
    rows = [[i, f"name {i}", "a,b"] for i in range(7)]
    whole = b"".join(csvout.lines(["n", "name", "x"], rows, batch=1000))
    batched = b"".join(csvout.lines(["n", "name", "x"], rows, batch=2))

    assert whole == batched
    assert whole.startswith("\ufeffn,name,x\r\n".encode()) and b'6,name 6,"a,b"\r\n' in whole


def test_the_clock_reads_and_shows_times_in_the_districts_zone() -> None:
    clock = DistrictClock("Asia/Shanghai")

    assert clock.parse("2024-05-01T08:00", "from") == datetime(2024, 5, 1, 0, 0, tzinfo=UTC)
    assert clock.parse("2024-05-01 08:00", "from") == clock.parse("2024-05-01T08:00:00", "from")
    assert clock.show("2024-05-01T00:00:00.000+00:00") == "2024-05-01 08:00:00"
    assert clock.show("not a time <b>") == "not a time <b>"
    assert clock.field(datetime(2024, 5, 1, tzinfo=UTC)) == "2024-05-01T08:00"
    assert clock.day_start(datetime(2024, 5, 1, 17, 0, tzinfo=UTC)) == datetime(2024, 5, 1, 16, 0, tzinfo=UTC)
    hours = clock.hours(datetime(2024, 5, 1, 16, 0, tzinfo=UTC), datetime(2024, 5, 2, 15, 0, tzinfo=UTC))
    assert len(hours) == 24 and hours[0] == "2024-05-01T16" and clock.hour_label(hours[0]) == "00"
    with pytest.raises(ValueError, match="from: '31/12/2024' is not a date and time"):
        clock.parse("31/12/2024", "from")


def test_a_half_hour_zone_labels_hours_by_their_local_start() -> None:
    assert DistrictClock("Asia/Kolkata").hour_label("2024-05-01T00") == "05:30"


def test_page_cursors_round_trip_and_refuse_what_hq_did_not_make() -> None:
    cursor = encode_cursor(["2024-05-01T08:00:00.000+00:00", "01HX"])

    assert decode_cursor(cursor, [str, str]) == ["2024-05-01T08:00:00.000+00:00", "01HX"]
    assert decode_cursor(encode_cursor([2**63 - 1]), [int]) == [2**63 - 1]
    damaged = [
        "!!!", encode_cursor(["one"]), encode_cursor([{"a": 1}, 2]), "e30", encode_cursor([1, "01HX"]),
        encode_cursor(["a\x00", "01HX"]), encode_cursor(["\ud800", "01HX"]), encode_cursor(["x" * 201, "01HX"]),
        encode_cursor([True, False]), encode_cursor([None, "01HX"]), "A" * 1001,
    ]
    for link in damaged:
        with pytest.raises(CursorError, match="damaged"):
            decode_cursor(link, [str, str])
    for number in [encode_cursor(["7"]), encode_cursor([2**63]), encode_cursor([1.5]), encode_cursor([True])]:
        with pytest.raises(CursorError, match="damaged"):
            decode_cursor(number, [int])


def test_a_device_cookie_counts_only_for_its_own_account_and_only_until_it_expires() -> None:
    now = [1_000_000_000.0]
    limits = SignInLimits(account="1/minute", device="1/minute", address="1/minute", device_key=b"k" * 32,
                          clock=lambda: now[0], limiter=MovingWindowRateLimiter(MemoryStorage()))
    cookie = limits.device_cookie("Vera")
    forged = cookie[:-1] + ("0" if cookie[-1] != "0" else "1")
    elsewhere = SignInLimits(account="1/minute", device="1/minute", address="1/minute", device_key=b"x" * 32,
                             clock=lambda: now[0], limiter=MovingWindowRateLimiter(MemoryStorage()))

    def kinds(limits: SignInLimits, username: str, value: str | None) -> list[str]:
        return [name for name, _ in limits.keys(username, "10.0.0.1", value)]

    assert kinds(limits, "vera", cookie) == ["device"]
    assert kinds(limits, "ada", cookie) == ["account", "address"]
    assert kinds(elsewhere, "vera", cookie) == ["account", "address"], "another HQ key does not know it"
    for damaged in [forged, None, "", "a.b", "..", "\x00.\x00.\x00", "9" * 40 + ".x.y", "é.é.é"]:
        assert kinds(limits, "vera", damaged) == ["account", "address"], damaged
    now[0] += DEVICE_DAYS * 86400 + 1
    assert kinds(limits, "vera", cookie) == ["account", "address"], "an expired cookie counts as none"
