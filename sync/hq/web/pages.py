"""The overview (every gate at a glance), a gate's own page, the alerts list and the published policy. The overview
and a gate's page read where tracing reads (a replica, when HQ has one: they say how far behind it is)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sync.core.clock import utc_text
from sync.core.policy import described, read_policy
from sync.core.i18n import _
from sync.hq import incidents, lists, reconcile, stats
from sync.hq.overview import (
    GateFilter,
    alert_page,
    alerts_since,
    current_bundle,
    gate_page,
    gate_status,
    gate_tally,
    latest_alarms,
)
from sync.hq.stats import Counts
from sync.hq.web import charts
from sync.hq.web.core import Posted, SignedIn, dashboard_of, record, render, replica_note
from sync.hq.web.params import Cursor, GateChoice, GateName, IncidentName

router = APIRouter(include_in_schema=False)
DAYS_SHOWN = 14
RECONCILE_DAYS = 3
"""The overview marks a gate whose own counts of one of the last three days differ from HQ's (its page shows a
fortnight): counting those days' entries of a page of 50 busy gates (2,000 a day each) takes about 0.2 s on
SQLite, a week's about 0.5 s, on every refresh."""


def _today(request: Request) -> tuple[datetime, datetime, list[str]]:
    """Now, the district's midnight, and the 24 UTC hour keys of the district's day."""
    clock = dashboard_of(request).clock
    now = clock.now()
    start = clock.day_start(now)
    return now, start, clock.hours(start, start + timedelta(hours=23))


def _sum(counts: dict[str, Counts]) -> Counts:
    total = Counts()
    for c in counts.values():
        total.add(c)
    return total


@router.get("/", response_class=HTMLResponse)
def overview(
    request: Request, session: SignedIn, show: GateFilter = GateFilter.ALL, after: Cursor = None, before: Cursor = None
) -> Response:
    dashboard = dashboard_of(request)
    clock = dashboard.clock
    now, day_start, hours = _today(request)
    first, last = hours[0], hours[-1]
    stale_before = now - dashboard.stale_after
    with dashboard.reads.read() as conn:
        tally = gate_tally(conn, stale_before)
        page = gate_page(conn, stale_before, show, after=after, before=before)
        names = [g.gate_id for g in page.items]
        today = stats.totals(conn, first, last)
        district = stats.by_hour(conn, first, last)
        per_gate = stats.by_gate_hour(conn, first, last, names) if names else {}
        reasons = stats.reasons(conn, first, last)
        alarms = latest_alarms(conn)
        recent_alerts = alert_page(conn, size=8).items
        alerts_today = alerts_since(conn, day_start)
        since = clock.local(day_start - timedelta(days=RECONCILE_DAYS)).strftime("%Y-%m-%d")
        mismatched = reconcile.mismatched(conn, names, since)
    with dashboard.db.read() as conn:  # the primary: an incident shows the moment a gate sends it
        open_incidents = incidents.open_incidents(conn)
    return render(
        request,
        "overview.html",
        incidents=open_incidents,
        tally=tally,
        page=page,
        show=show.value,
        filters=[f.value for f in GateFilter],
        today=today,
        gate_today={name: _sum(per_gate.get(name, {})) for name in names},
        mismatched=mismatched,
        sparklines={name: charts.sparkline(hours, per_gate.get(name, {})) for name in names},
        district_svg=charts.bars(hours, district, clock.hour_label, description=_("attempts per hour today, district")),
        reasons=reasons,
        reasons_svg=charts.horizontal([(r.reason, r.refused, r.held) for r in reasons]),
        alarms=alarms,
        recent_alerts=recent_alerts,
        alerts_today=alerts_today,
        stale_minutes=dashboard.hq.settings.stale_after_minutes,
        now=now,
        day_start=day_start,
        replica_note=replica_note(dashboard),
    )


@router.get("/gates/{gate_id}", response_class=HTMLResponse)
def gate(request: Request, gate_id: GateName, session: SignedIn, after: Cursor = None, before: Cursor = None) -> Response:
    dashboard = dashboard_of(request)
    clock = dashboard.clock
    now, day_start, hours = _today(request)
    days_start = day_start - timedelta(days=DAYS_SHOWN - 1)
    with dashboard.reads.read() as conn:
        status = gate_status(conn, gate_id, now - dashboard.stale_after)
        if status is None:
            return render(request, "error.html", 404, title="No such gate", message=f"No gate {gate_id} is enrolled.")
        today = stats.by_hour(conn, hours[0], hours[-1], [gate_id])
        recent = stats.by_hour(conn, stats.hour_of(utc_text(days_start)), hours[-1], [gate_id])
        reasons = stats.reasons(conn, hours[0], hours[-1], [gate_id])
        alarms = latest_alarms(conn, gate=gate_id)
        alert_list = alert_page(conn, gate=gate_id, after=after, before=before, size=20)
        bundle = current_bundle(conn, gate_id)
        days = [clock.local(days_start + timedelta(days=i, hours=12)).strftime("%Y-%m-%d") for i in range(DAYS_SHOWN)]
        checks = reconcile.day_checks(conn, [gate_id], days[0])
    daily: dict[str, Counts] = defaultdict(Counts)
    for hour, counts in recent.items():
        daily[clock.show(hour + ":00:00+00:00")[:10]].add(counts)
    return render(
        request,
        "gate.html",
        status=status,
        today=_sum(today),
        today_phrase=charts.attempts_phrase(_sum(today)),
        bundle=bundle,
        hourly_svg=charts.bars(hours, today, clock.hour_label, description=_("attempts per hour today at {gate}").format(gate=gate_id)),
        daily_svg=charts.bars(days, daily, lambda d: d[5:], description=_("attempts per day at {gate}").format(gate=gate_id)),
        reasons=reasons,
        reasons_svg=charts.horizontal([(r.reason, r.refused, r.held) for r in reasons]),
        alarms=alarms,
        alerts=alert_list,
        checks=checks,
        now=now,
        day_start=day_start,
        stale_minutes=dashboard.hq.settings.stale_after_minutes,
        replica_note=replica_note(dashboard),
    )


@router.get("/alerts", response_class=HTMLResponse)
def alerts(
    request: Request, session: SignedIn, gate: GateChoice = "", after: Cursor = None, before: Cursor = None
) -> Response:
    with dashboard_of(request).db.read() as conn:
        page = alert_page(conn, gate=gate or None, after=after, before=before)
    return render(request, "alerts.html", page=page, gate=gate or "")


@router.get("/policy", response_class=HTMLResponse)
def policy(request: Request, session: SignedIn) -> Response:
    """The policy HQ publishes to every gate, rule by rule, each setting with its value and what it does (the
    words are the settings' own docstrings in `sync.core.policy`), and what this HQ's version does not know."""
    try:
        current = lists.current_policy(dashboard_of(request).db)
    except lists.ListError as exc:
        return render(request, "error.html", 500, title="Policy unreadable", message=str(exc))
    sections = described(read_policy(current.data).policy) if current else []
    return render(request, "policy.html", sections=sections, ignored=current.ignored if current else ())


@router.post("/incidents/{incident_id}/close")
def close_incident(request: Request, incident_id: IncidentName, session: SignedIn, form: Posted) -> Response:
    """An official closes a red-code incident: it leaves the overview, and the audit log says who closed it."""
    dashboard = dashboard_of(request)
    try:
        incidents.close(dashboard.db, incident_id, session.user.username, dashboard.clock.now())
    except incidents.IncidentError as exc:
        return render(request, "error.html", 404, title=_("No such incident"), message=str(exc))
    record(request, session, "close incident", {"incident": incident_id, "note": str(form.get("note", ""))[:500]})
    return RedirectResponse("/", status_code=303)
