#!/usr/bin/env bash
# Renders RUN_FOLDER/report.html to a PNG with headless Chromium (apt-get install -y chromium),
# to check the page or put a picture of it in the docs.
#
#   scripts/screenshot-report.sh RUN_FOLDER OUT_PNG [HEIGHT]
#
# The picture is 1280 px wide and HEIGHT px high (default 6000; the smoke run's page is about
# 4500, a run with more models needs more: what does not fit is cut). The page uses no
# JavaScript, so it is complete once loaded; --virtual-time-budget gives the images time to decode.
set -euo pipefail
if [ $# -lt 2 ] || [ $# -gt 3 ]; then
    echo "usage: $0 RUN_FOLDER OUT_PNG [HEIGHT]" >&2
    exit 64
fi
page="$(cd "$1" && pwd)/report.html"
out="$2"
height="${3:-6000}"
[ -f "$page" ] || { echo "$0: $page does not exist (run dde-train compare first)" >&2; exit 66; }
browser="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
[ -n "$browser" ] || { echo "$0: no chromium found; install it with: apt-get install -y chromium" >&2; exit 69; }
case "$out" in /*) ;; *) out="$PWD/$out" ;; esac
# --no-sandbox: Chromium refuses to run as root with its sandbox (containers, CI).
"$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars --virtual-time-budget=5000 \
    --window-size="1280,$height" --screenshot="$out" "file://$page" 2>/dev/null
[ -s "$out" ] || { echo "$0: chromium wrote no screenshot to $out" >&2; exit 1; }
echo "$out"
