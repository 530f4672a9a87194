"""Render the Chinese verdict words' characters once into quadrant-block glyphs: `kiosk/ui/bigtext_cjk.json`.

A terminal can only show Chinese at its font's size, far too small to read from across a gate, and a keeper's
terminal may have no CJK font at all. So the few characters the banner needs are drawn here, offline, from Noto
Sans CJK SC Bold (Debian's `fonts-noto-cjk`) into block characters: each terminal cell carries 2x2 pixels
(quadrants, U+2596-U+259F, which terminals draw in any font), and the kiosk only pastes the stored lines together.

Each glyph is rendered 8 times finer than its pixel grid and averaged over each pixel's area; of the placements
shifted by up to half a pixel each way, the one whose strokes fall most squarely on whole pixels is thresholded
(the least total difference between the set pixels and the coverage), so strokes stay solid and apart.
Sizes come in tiers of (rows, cells) per character, each glyph a little taller than wide on screen (a cell is
about twice as tall as it is wide): 6 rows x 10 cells, so a four-character word like 禁止通行 is 40 cells and fits
the banner of an 80x24 terminal (42 cells); 8 x 16, for four characters in a 120-column terminal's banner (66);
and 10 x 20, for two or three characters there.

Run it after changing the words (needs Pillow, a dev dependency, and `apt-get install fonts-noto-cjk`):

    .venv/bin/python -m kiosk.ui.cjk_glyphs [--font FILE] [--preview PNG]

`--preview` also draws every word in every tier the way a terminal would, to judge legibility by eye.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from kiosk.ui.bigtext import CJK_GLYPHS_FILE, QUADRANTS

FONT = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc")
FAMILY = "Noto Sans CJK SC"
TIERS = ((6, 10), (8, 16), (10, 20))
"""(rows, cells) of one character: each tier holds every character."""
WORDS = ("放行", "人工核验", "禁止通行", "请扫码", "记录失败")
"""The banner's Chinese words: pass, hold, refuse, idle and not logged."""
ALTERNATIVES = ("核验通过", "请稍候", "暂缓通行")
"""Other words a translator might prefer for the verdicts; drawn too, so choosing one keeps the large letters."""
SUPERSAMPLE = 8
"""Rendered pixels along each side of a glyph pixel."""
SHIFTS = (-4, -2, 0, 2, 4)
"""Placements tried, in rendered pixels: up to half a glyph pixel up, down, left and right."""
THRESHOLD = 0.55
"""Share of a pixel's area the glyph must cover for the pixel to be set: above half keeps Bold strokes apart."""
ASCENT = 0.88
"""Where the baseline sits in the ideographic em box of Noto CJK (880 of 1000 units from the top)."""


def load_font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    """The Simplified Chinese face of the collection (a .ttc holds JP, KR, SC, TC and HK faces)."""
    for index in range(16):
        font = ImageFont.truetype(str(path), size, index=index)
        if font.getname()[0] == FAMILY:
            return font
    raise click.ClickException(f"{path} has no {FAMILY} face")


def pixels(font: ImageFont.FreeTypeFont, character: str, rows: int, cells: int) -> np.ndarray:
    """The character's em box as a (2*rows, 2*cells) boolean grid, placed where its strokes fit the pixels best."""
    size = int(font.size)
    canvas = Image.new("L", (size, size), 0)
    ImageDraw.Draw(canvas).text((size / 2, ASCENT * size), character, font=font, fill=255, anchor="ms")
    height, width = 2 * rows, 2 * cells
    fine = np.asarray(canvas.resize((width * SUPERSAMPLE, height * SUPERSAMPLE), Image.Resampling.BOX), dtype=float)
    margin = max(SHIFTS)
    padded = np.pad(fine / 255, margin)
    best: tuple[float, np.ndarray] | None = None
    for dy in SHIFTS:
        for dx in SHIFTS:
            window = padded[margin + dy :, margin + dx :][: height * SUPERSAMPLE, : width * SUPERSAMPLE]
            coverage = window.reshape(height, SUPERSAMPLE, width, SUPERSAMPLE).mean(axis=(1, 3))
            grid = coverage > THRESHOLD
            error = float(np.abs(grid - coverage).sum())
            if best is None or error < best[0]:
                best = (error, grid)
    assert best is not None
    return best[1]


def quadrant_lines(grid: np.ndarray) -> list[str]:
    """Pixels to text, 2x2 pixels a cell (bits: upper left 1, upper right 2, lower left 4, lower right 8)."""
    bits = grid[0::2, 0::2] * 1 + grid[0::2, 1::2] * 2 + grid[1::2, 0::2] * 4 + grid[1::2, 1::2] * 8
    return ["".join(QUADRANTS[int(b)] for b in row) for row in bits]


def preview(tiers: list[dict[str, object]], words: tuple[str, ...], path: Path) -> None:
    """Every word in every tier, drawn white on green as a terminal with 10x21-pixel cells shows it."""
    cell_w, cell_h = 10, 21
    blocks: list[list[str]] = []
    for tier in tiers:
        glyphs: dict[str, list[str]] = tier["glyphs"]  # type: ignore[assignment]
        rows = int(tier["rows"])  # type: ignore[call-overload]
        for word in words:
            blocks.append(["".join(glyphs[ch][row] for ch in word) for row in range(rows)])
            blocks.append([""])
    lines = [line for block in blocks for line in block]
    size = ((max(len(line) for line in lines) + 2) * cell_w, (len(lines) + 2) * cell_h)
    image = Image.new("RGB", size, (46, 125, 50))
    draw = ImageDraw.Draw(image)
    for y, line in enumerate(lines, start=1):
        for x, char in enumerate(line, start=1):
            bits = QUADRANTS.index(char)
            for bit, (dx, dy) in enumerate(((0, 0), (1, 0), (0, 1), (1, 1))):
                if bits >> bit & 1:
                    left, top = x * cell_w + dx * cell_w // 2, y * cell_h + dy * cell_h / 2
                    draw.rectangle((left, top, left + cell_w // 2 - 1, top + cell_h / 2 - 1), fill="white")
    image.save(path)


@click.command(help="Render the banner's Chinese characters into quadrant-block glyphs (kiosk/ui/bigtext_cjk.json).")
@click.option("--font", "font_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=FONT,
              show_default=True, help="Noto Sans CJK collection to draw from (fonts-noto-cjk).")
@click.option("--preview", "preview_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write a PNG of every word in every tier, as a terminal would show it.")
def main(font_path: Path, preview_path: Path | None) -> None:
    characters = sorted(set("".join(WORDS + ALTERNATIVES)))
    tiers: list[dict[str, object]] = []
    for rows, cells in TIERS:
        font = load_font(font_path, 4 * SUPERSAMPLE * max(rows, cells))  # finer than the rendered grid needs
        glyphs = {ch: quadrant_lines(pixels(font, ch, rows, cells)) for ch in characters}
        tiers.append({"rows": rows, "cells": cells, "glyphs": glyphs})
    data = {
        "about": f"{FAMILY} Bold from {font_path.name}, drawn by kiosk/ui/cjk_glyphs.py (threshold {THRESHOLD})",
        "tiers": tiers,
    }
    CJK_GLYPHS_FILE.write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    click.echo(f"{len(characters)} characters in {len(TIERS)} sizes: {CJK_GLYPHS_FILE} "
               f"({CJK_GLYPHS_FILE.stat().st_size:,} bytes)")
    if preview_path is not None:
        preview(tiers, WORDS + ALTERNATIVES, preview_path)
        click.echo(f"preview: {preview_path}")


if __name__ == "__main__":
    main()
