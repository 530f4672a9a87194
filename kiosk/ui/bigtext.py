"""Large letters for the verdict word, so PASS or REFUSED reads from across the gate.

Each glyph is 5x5 pixels drawn with half-block characters (two pixel rows per terminal row), so a word is
three rows tall. Only the letters the verdicts use are drawn; anything else falls back to plain text.
"""

from __future__ import annotations

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
