"""The verdict word in large letters: Chinese glyphs from the stored quadrant bitmaps, Latin letters as before."""

from __future__ import annotations

import numpy as np
import pytest
from rich.cells import cell_len

from kiosk.ui.bigtext import QUADRANTS, big, big_text, cjk_sizes
from kiosk.ui.cjk_glyphs import ALTERNATIVES, WORDS

BANNER_80x24 = 42
"""Cells inside the verdict banner of an 80x24 gate screen (48 columns less border and padding)."""
BANNER_120x40 = 66


def pixels(lines: list[str]) -> np.ndarray:
    """Quadrant text back to its pixels, two rows and two columns a cell."""
    grid = np.zeros((2 * len(lines), 2 * max(map(len, lines))), dtype=bool)
    for y, line in enumerate(lines):
        for x, char in enumerate(line):
            bits = QUADRANTS.index(char)
            grid[2 * y : 2 * y + 2, 2 * x : 2 * x + 2] = np.array([[bits & 1, bits & 2], [bits & 4, bits & 8]]) > 0
    return grid


def test_every_stored_glyph_is_a_full_block_of_quadrants() -> None:
    sizes = cjk_sizes()
    assert [(size.rows, size.cells) for size in sizes] == [(6, 10), (8, 16), (10, 20)]
    for size in sizes:
        assert set("".join(WORDS + ALTERNATIVES)) <= set(size.glyphs)
        for character, lines in size.glyphs.items():
            assert len(lines) == size.rows, character
            assert all(len(line) == size.cells and set(line) <= set(QUADRANTS) for line in lines), character
            assert 0.15 < pixels(lines).mean() < 0.6, f"{character} is nearly empty or a blot"
        drawn = {tuple(lines) for lines in size.glyphs.values()}
        assert len(drawn) == len(size.glyphs), "two characters drawn alike"


@pytest.mark.parametrize("word", WORDS + ALTERNATIVES)
def test_every_chinese_verdict_word_is_large_in_the_80x24_banner(word: str) -> None:
    lines = big_text(word, BANNER_80x24, rows=6)
    assert len(lines) == 6
    assert all(cell_len(line) == 10 * len(word) <= BANNER_80x24 for line in lines)


@pytest.mark.parametrize(
    ("word", "rows", "cells"),
    [("禁止通行", 8, 64), ("人工核验", 8, 64), ("放行", 10, 40), ("请扫码", 10, 60)],
)
def test_a_120x40_banner_takes_the_largest_size_that_fits(word: str, rows: int, cells: int) -> None:
    lines = big_text(word, BANNER_120x40, rows=11)
    assert (len(lines), {cell_len(line) for line in lines}) == (rows, {cells})


def test_the_height_limit_picks_a_smaller_size() -> None:
    assert len(big_text("放行", 200)) == 10
    assert len(big_text("放行", 200, rows=9)) == 8
    assert len(big_text("放行", 200, rows=6)) == 6


def test_large_text_never_overflows_its_width() -> None:
    for width in range(121):
        for word in WORDS + ("PASS", "REFUSED", "NOT LOGGED"):
            lines = big_text(word, width, rows=10)
            if len(lines) > 1:
                assert max(map(cell_len, lines)) <= width, (word, width)


def test_too_narrow_or_unknown_words_fall_back_to_plain_text() -> None:
    assert big_text("禁止通行", 39, rows=6) == ["禁 止 通 行"]
    assert big_text("禁止通行", 10, rows=6) == ["禁止通行"]
    assert big_text("禁止通行", 80, rows=5) == ["禁 止 通 行"]
    assert big_text("禁止吸烟", 80) == ["禁 止 吸 烟"], "characters that were never rendered"
    assert big_text("通行2", 80) == ["通 行 2"]


def test_latin_words_are_drawn_as_before() -> None:
    assert big_text("PASS", BANNER_80x24) == big("PASS")
    assert big_text("REFUSED", BANNER_80x24, rows=6) == big("REFUSED")
    assert big_text("NOT LOGGED", BANNER_80x24) == ["N O T   L O G G E D"]


def test_the_character_for_work_has_two_bars_and_a_stem() -> None:
    """工: a top bar, a wider bottom bar, and between them only a narrow stem in the middle, in every size."""
    for size in cjk_sizes():
        grid = pixels(size.glyphs["工"])
        width = grid.shape[1]
        bars = [y for y in range(grid.shape[0]) if grid[y].sum() >= 0.6 * width]
        assert bars, size
        top, bottom = [y for y in bars if y < grid.shape[0] / 2], [y for y in bars if y > grid.shape[0] / 2]
        assert top and bottom, (size.rows, bars)
        assert grid[bottom].sum(axis=1).max() > grid[top].sum(axis=1).max()
        stem = grid[max(top) + 1 : min(bottom)]
        assert len(stem) >= 2
        columns = np.flatnonzero(stem.any(axis=0))
        assert columns.max() - columns.min() < width / 4
        assert abs((columns.max() + columns.min()) / 2 - (width - 1) / 2) <= 1.5
