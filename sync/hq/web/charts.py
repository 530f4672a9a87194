"""Charts drawn on the server as SVG: the geometry here, the markup in templates/charts.html.

No JavaScript and nothing fetched from elsewhere: HQ's browsers may have no internet, and the pages' Content
Security Policy allows only HQ's own files. SVG presentation attributes (x, y, width, height, class) are not
inline styles, so the policy needs no 'unsafe-inline'.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sync.core.i18n import N_, _
from sync.core.refusals import kind_label
from sync.hq.stats import Counts


@dataclass(frozen=True)
class Segment:
    y: float
    height: float
    css: str


@dataclass(frozen=True)
class Bar:
    x: float
    width: float
    segments: list[Segment]
    title: str
    """The tooltip: what the bar counts, in words."""


@dataclass(frozen=True)
class Label:
    x: float
    y: float
    text: str


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    bars: list[Bar]
    x_labels: list[Label]
    y_labels: list[Label]
    gridlines: list[float]
    description: str
    """What the chart shows, for screen readers (aria-label)."""


def nice_ceiling(value: int) -> int:
    """A round top for the y axis: 1, 2, 5 times a power of ten, at least `value`."""
    if value <= 0:
        return 1
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * power >= value:
            return step * power
    return 10 * power  # pragma: no cover - the loop always returns


def bars(
    keys: Sequence[str],
    counts: dict[str, Counts],
    label: Callable[[str], str],
    *,
    width: int = 760,
    height: int = 200,
    description: str = N_("attempts per hour"),
) -> Chart:
    """Stacked bars of passages per hour (or day: any keys): people let in, people who left, and those refused
    or held on top; the three add up to the attempts (one passage per attempt, amendments counted once)."""
    left, right, top, bottom = 40, 8, 10, 24
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = nice_ceiling(max((counts[k].total for k in keys if k in counts), default=0))
    slot = plot_w / max(len(keys), 1)
    drawn = []
    x_labels = []
    every = max(1, math.ceil(len(keys) / 12))
    for i, key in enumerate(keys):
        c = counts.get(key, Counts())
        x = left + i * slot + slot * 0.1
        bar_w = slot * 0.8
        base = top + plot_h
        in_h = plot_h * c.let_in / peak
        out_h = plot_h * c.left / peak
        stopped_h = plot_h * (c.refused + c.held) / peak
        segments = [
            Segment(round(base - in_h, 1), round(in_h, 1), "in"),
            Segment(round(base - in_h - out_h, 1), round(out_h, 1), "out"),
            Segment(round(base - in_h - out_h - stopped_h, 1), round(stopped_h, 1), "stopped"),
        ]
        when = label(key)
        title = _("{when}: {attempts}").format(when=when, attempts=attempts_phrase(c))
        drawn.append(Bar(round(x, 1), round(bar_w, 1), [s for s in segments if s.height > 0], title))
        if i % every == 0:
            x_labels.append(Label(round(x + bar_w / 2, 1), height - 8, when))
    gridlines = [round(top + plot_h * f, 1) for f in (0, 0.5, 1)]
    y_labels = [Label(left - 6, round(top + plot_h * f + 4, 1), str(round(peak * (1 - f)))) for f in (0, 0.5, 1)]
    return Chart(width, height, drawn, x_labels, y_labels, gridlines, description)


def attempts_phrase(c: Counts) -> str:
    """The dashboard's one way of saying counts, in the gates' words: '21 attempts: 7 let in, 2 left, 10 refused,
    2 held' (the four parts add up to the attempts)."""
    return _("{total} attempts: {let_in} let in, {left} left, {refused} refused, {held} held").format(
        total=c.total, let_in=c.let_in, left=c.left, refused=c.refused, held=c.held)


def sparkline(hours: Sequence[str], counts: dict[str, Counts], *, width: int = 144, height: int = 28) -> Chart:
    """A gate's day at a glance: one thin bar per hour, scaled to the gate's own busiest hour."""
    peak = max((counts[h].total for h in hours if h in counts), default=0) or 1
    slot = width / max(len(hours), 1)
    bars = []
    for i, hour in enumerate(hours):
        c = counts.get(hour, Counts())
        h = (height - 2) * c.total / peak
        stopped = (height - 2) * min(c.refused + c.held, c.total) / peak
        segments = [Segment(round(height - h, 1), round(h, 1), "in")]
        if stopped:
            segments.append(Segment(round(height - stopped, 1), round(stopped, 1), "stopped"))
        bars.append(Bar(round(i * slot, 1), round(max(slot - 1, 1), 1), [s for s in segments if s.height > 0],
                        _("{hour}: {total} attempts, {stopped} refused or held").format(
                            hour=hour, total=c.total, stopped=c.refused + c.held)))
    total = sum(counts[h].total for h in hours if h in counts)
    return Chart(width, height, bars, [], [], [], _("{total} attempts today, by hour").format(total=total))


def horizontal(rows: Sequence[tuple[str, int, int]], *, width: int = 360, row_height: int = 22) -> Chart:
    """Refusals by reason: one bar per (kind, refused, held), longest first as given; each kind is shown as its
    label in the reader's language (`sync.core.refusals.kind_label`)."""
    height = max(row_height * len(rows), row_height)
    peak = max((r + h for _kind, r, h in rows), default=0) or 1
    bars = []
    for i, (kind, refused, held) in enumerate(rows):
        label = kind_label(kind)
        y = i * row_height + 3
        refused_w = (width - 60) * refused / peak
        held_w = (width - 60) * held / peak
        segments = [Segment(y, row_height - 6, "refused")] if refused else []
        bars.append(Bar(0, round(refused_w, 1), segments, _("{label}: {refused} refused, {held} held").format(
            label=label, refused=refused, held=held)))
        if held:
            bars.append(Bar(round(refused_w, 1), round(held_w, 1), [Segment(y, row_height - 6, "held")],
                            _("{label}: {held} held").format(label=label, held=held)))
    labels = [Label(round((width - 60) * (r + h) / peak + 6, 1), i * row_height + row_height - 7, str(r + h))
              for i, (_kind, r, h) in enumerate(rows)]
    return Chart(width, height, bars, labels, [], [], N_("refusals and holds by reason"))
