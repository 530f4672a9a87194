"""The verdict banner in Chinese, alone in the space the gate screen gives it (pytest-textual-snapshot).

The app lays out the banner beside a stand-in for the camera preview, between the gate screen's bars, with the
kiosk's own stylesheet: so the banner is exactly as wide and tall as on the gate screen at 80x24 and 120x40, and
these pictures show whether 禁止通行 fits there. The texts are set on the banner's parts directly until the kiosk
speaks Chinese through its catalogs (issue 11); update with --snapshot-update after a deliberate change.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.app import App, ComposeResult
from textual.containers import Horizontal
from textual.pilot import Pilot
from textual.widgets import Footer, Static

import kiosk.ui
from kiosk.ui.banner import VerdictBanner, VerdictWord

STYLESHEET = Path(kiosk.ui.__file__).with_name("kiosk.tcss")


class BannerOnly(App[None]):
    CSS_PATH = STYLESHEET
    CSS = "#preview { height: 1fr; }"

    def compose(self) -> ComposeResult:
        yield Static(id="topbar")
        with Horizontal(id="main"):
            yield Static(id="preview")
            yield VerdictBanner(id="banner")
        yield Static(id="temperature-bar")
        yield Static(id="status")
        yield Footer(compact=True)


def showing(state: str, word: str, who: str, reasons: list[str], note: str) -> Any:
    async def run_before(pilot: Pilot[Any]) -> None:
        banner = pilot.app.query_one(VerdictBanner)
        banner.remove_class("-idle")
        banner.add_class(state)
        banner.query_one(VerdictWord).show(word)
        banner.query_one("#verdict-who", Static).update(Text(who))
        banner.query_one("#verdict-reasons", Static).update(Text("\n".join(f"• {reason}" for reason in reasons)))
        banner.query_one("#verdict-note", Static).update(Text(note))
        await pilot.pause()

    return run_before


REFUSED = showing(
    "-refuse",
    "禁止通行",
    "张* · 红码 · 进入 · 09:30:00",
    ["健康码为红码", "在区里的红黄码名单上"],
    "不要放行。\n已记录为第 12 条。",
)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
def test_refusal_in_chinese(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(BannerOnly(), terminal_size=size, run_before=REFUSED)


def test_pass_in_chinese_in_a_large_terminal(snap_compare: Any) -> None:
    run_before = showing(
        "-pass", "放行", "李* · 绿码 · 进入 · 09:31:10", ["绿码", "本小区居民"], "放行。\n已记录为第 13 条。"
    )
    assert snap_compare(BannerOnly(), terminal_size=(120, 40), run_before=run_before)


def test_hold_in_chinese_at_80x24(snap_compare: Any) -> None:
    run_before = showing(
        "-hold",
        "人工核验",
        "王* · 黄码 · 进入 · 09:32:45",
        ["黄码", "未测体温"],
        "先拦下核查，再决定是否放行。\n已记录为第 14 条。",
    )
    assert snap_compare(BannerOnly(), terminal_size=(80, 24), run_before=run_before)
