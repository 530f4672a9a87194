#!/usr/bin/env bash
# Pocket Gate set-up: system libraries (apt, when missing), then .venv with the project and its dev tools.
# Safe to run again: it only installs what is missing and re-installs the project in place.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON="${PYTHON:-python3}"
need_apt=()
# zbar: the second QR decoder (pyzbar loads libzbar.so.0 at run time).
ldconfig -p 2>/dev/null | grep -q 'libzbar\.so\.0' || need_apt+=(libzbar0)
# OpenCV's wheel needs libGL-free headless libs only; libgomp is usually present, check anyway.
ldconfig -p 2>/dev/null | grep -q 'libgomp\.so\.1' || need_apt+=(libgomp1)
# espeak-ng speaks the verdicts (offline, Mandarin and English); aplay (alsa-utils) plays them where no sound
# server (PipeWire's pw-play, PulseAudio's paplay) is installed.
command -v espeak-ng >/dev/null 2>&1 || need_apt+=(espeak-ng)
command -v aplay >/dev/null 2>&1 || need_apt+=(alsa-utils)
# Noto Sans CJK draws the synthetic ID cards of the demo, the tests and bench/idcard_bench.py.
[ -e /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || need_apt+=(fonts-noto-cjk)

if [ ${#need_apt[@]} -gt 0 ]; then
    echo "==> installing system libraries: ${need_apt[*]}"
    SUDO=""
    [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "Pocket Gate needs Python 3.11 or newer; $("$PYTHON" --version 2>&1) found. Set PYTHON=/path/to/python3.11." >&2
    exit 1
fi

if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv"
    "$PYTHON" -m venv .venv
fi
echo "==> installing Pocket Gate and its dev tools into .venv"
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'
# ID-card OCR: RapidOCR's wheel ships the PP-OCRv4 models (offline). Its other dependencies are in pyproject.toml;
# --no-deps keeps it from adding opencv-python (with GUI, needs libGL) beside our opencv-python-headless.
.venv/bin/python -m pip install --quiet --no-deps 'rapidocr-onnxruntime>=1.4.4'
# The message catalogs (zh_CN, en): the .po files are committed, the .mo files gettext reads are built here.
echo "==> compiling the message catalogs"
.venv/bin/python -m sync.core.catalogs compile
echo "==> ready: .venv/bin/pocket-kiosk --help   .venv/bin/pocket-hq --help"
