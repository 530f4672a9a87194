"""A gate's duty timeline: for each hour of the last 14 days, whether a keeper was signed in, the camera worked and
the lists were fresh (`sync.hq.duty`). One view, two formats: the page (gaps highlighted) and its CSV."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response, StreamingResponse

from sync.core.duty import TIMELINE_DAYS, DutyHour
from sync.core.i18n import _
from sync.hq.duty import gate_timeline
from sync.hq.overview import gate_status
from sync.hq.web import csvout
from sync.hq.web.clock import DistrictClock
from sync.hq.web.core import SignedIn, dashboard_of, render
from sync.hq.web.params import GateName

router = APIRouter(include_in_schema=False)


def _timeline(request: Request, gate_id: str) -> list[DutyHour] | None:
    """The gate's timeline, or None when no such gate is enrolled."""
    dashboard = dashboard_of(request)
    now = dashboard.clock.now()
    with dashboard.reads.read() as conn:
        if gate_status(conn, gate_id, now - dashboard.stale_after) is None:
            return None
        return gate_timeline(conn, gate_id, now, TIMELINE_DAYS)


def _days(clock: DistrictClock, hours: list[DutyHour]) -> list[tuple[str, list[DutyHour]]]:
    """The hours grouped by the district's day, oldest first."""
    days: dict[str, list[DutyHour]] = {}
    for hour in hours:
        days.setdefault(clock.local(hour.start).strftime("%Y-%m-%d"), []).append(hour)
    return list(days.items())


@router.get("/gates/{gate_id}/duty", response_class=HTMLResponse)
def duty_page(request: Request, gate_id: GateName, session: SignedIn) -> Response:
    hours = _timeline(request, gate_id)
    if hours is None:
        return render(request, "error.html", 404, title="No such gate", message=f"No gate {gate_id} is enrolled.")
    clock = dashboard_of(request).clock
    return render(request, "duty.html", gate_id=gate_id, days=_days(clock, hours), gaps=sum(h.gap for h in hours),
                  hours_shown=len(hours))


def _percent(share: float) -> str:
    return f"{round(share * 100)}"


@router.get("/gates/{gate_id}/duty.csv")
def duty_csv(request: Request, gate_id: GateName, session: SignedIn) -> Response:
    hours = _timeline(request, gate_id)
    if hours is None:
        return render(request, "error.html", 404, title="No such gate", message=f"No gate {gate_id} is enrolled.")
    clock = dashboard_of(request).clock
    header = [_("hour"), _("keeper signed in %"), _("camera working %"), _("lists fresh %"), _("gap")]

    def rows() -> Iterator[list[object]]:
        for h in hours:
            yield [clock.local(h.start).isoformat(timespec="minutes"), _percent(h.keeper), _percent(h.camera),
                   _percent(h.lists), _("yes") if h.gap else _("no")]

    return StreamingResponse(csvout.lines(header, rows()), media_type="text/csv; charset=utf-8",
                             headers={"Content-Disposition": f'attachment; filename="duty-{gate_id}.csv"'})
