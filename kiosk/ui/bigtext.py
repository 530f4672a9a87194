"""Large letters for the verdict word, so PASS or REFUSED (or 禁止通行) reads from across the gate.

Latin letters are 5x5 pixels drawn with half-block characters (two pixel rows per terminal row), so a word is
three rows tall. Chinese characters need more pixels than that: they were rendered once from a CJK font into
quadrant characters (2x2 pixels a cell) by kiosk/ui/cjk_glyphs.py, in a few sizes stored in bigtext_cjk.json, and
are only pasted together here, so they show in any terminal font, with or without CJK glyphs of its own. Only
the characters the verdicts use are drawn; anything else falls back to plain text.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from rich.cells import cell_len

GLYPHS = {
    "A": (".###.", "#...#", "#####", "#...#", "#...#"),
    "D": ("####.", "#...#", "#...#", "#...#", "####."),
    "E": ("#####", "#....", "####.", "#....", "#####"),
    "F": ("#####", "#....", "####.", "#....", "#...."),
    "G": (".####", "#....", "#..##", "#...#", ".###."),
    "H": ("#...#", "#...#", "#####", "#...#", "#...#"),
    "L": ("#....", "#....", "#....", "#....", "#####"),
    "N": ("#...#", "##..#", "#.#.#", "#..##", "#...#"),
    "O": (".###.", "#...#", "#...#", "#...#", ".###."),
    "P": ("####.", "#...#", "####.", "#....", "#...."),
    "R": ("####.", "#...#", "####.", "#..#.", "#...#"),
    "S": (".####", "#....", ".###.", "....#", "####."),
    "T": ("#####", "..#..", "..#..", "..#..", "..#.."),
    "U": ("#...#", "#...#", "#...#", "#...#", ".###."),
    "Y": ("#...#", ".#.#.", "..#..", "..#..", "..#.."),
    " ": (".....",) * 5,
}
_HALF = {(False, False): " ", (True, False): "▀", (False, True): "▄", (True, True): "█"}


def big_width(word: str) -> int:
    return 6 * len(word) - 1


def can_draw(word: str) -> bool:
    return all(ch in GLYPHS for ch in word)


def big(word: str) -> list[str]:
    """Three lines of text spelling `word` in large letters (every letter must be in GLYPHS)."""
    pixels = [".".join(GLYPHS[ch][row] for ch in word) for row in range(5)] + ["." * big_width(word)]
    return [
        "".join(_HALF[(upper == "#", lower == "#")] for upper, lower in zip(pixels[y], pixels[y + 1], strict=True))
        for y in range(0, 6, 2)
    ]


CJK_GLYPHS_FILE = Path(__file__).with_name("bigtext_cjk.json")
QUADRANTS = " ▘▝▀▖▌▞▛▗▚▐▜▄▙▟█"
"""Quadrant characters by the pixels they set: upper left 1, upper right 2, lower left 4, lower right 8."""


@dataclass(frozen=True)
class GlyphSize:
    """One size of the stored Chinese glyphs: every character is `rows` lines of `cells` quadrant characters."""

    rows: int
    cells: int
    glyphs: dict[str, list[str]]

    def draw(self, word: str) -> list[str]:
        return ["".join(self.glyphs[ch][row] for ch in word) for row in range(self.rows)]


@cache
def cjk_sizes() -> tuple[GlyphSize, ...]:
    """The stored Chinese glyph sizes, smallest first (read once, on the first Chinese word)."""
    data = json.loads(CJK_GLYPHS_FILE.read_text(encoding="utf-8"))
    sizes = (GlyphSize(tier["rows"], tier["cells"], tier["glyphs"]) for tier in data["tiers"])
    return tuple(sorted(sizes, key=lambda size: size.rows))


def spaced(word: str) -> str:
    """'PASS' -> 'P A S S', for banners too narrow for large letters."""
    return " ".join(word)


def big_text(word: str, width: int, rows: int | None = None) -> list[str]:
    """The lines that draw `word` as large as fits in `width` terminal cells and `rows` lines (no limit: None).

    Latin verdict words come in their one size (three lines); Chinese ones in the largest stored size that fits.
    A word that cannot be drawn, or does not fit, comes back as one line of plain (letter-spaced) text.
    """
    if can_draw(word):
        if big_width(word) <= width:
            return big(word)
    elif word:
        fitting = [
            size
            for size in cjk_sizes()
            if all(ch in size.glyphs for ch in word)
            and size.cells * len(word) <= width
            and (rows is None or size.rows <= rows)
        ]
        if fitting:
            return fitting[-1].draw(word)
    return [spaced(word)] if cell_len(spaced(word)) <= width else [word]
