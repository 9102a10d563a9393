#!/usr/bin/env bash
# The small media of examples/media-en.yaml, made with ffmpeg alone: a picture and two short clips
# (one landscape with a tone, one portrait without sound). Run from the repository: bash scripts/sample-media.sh
set -euo pipefail
out="${1:-data/sources/media}"
mkdir -p "$out"
ff=(ffmpeg -hide_banner -loglevel error -nostdin -y)
"${ff[@]}" -f lavfi -i "mandelbrot=size=640x480:end_pts=1:rate=1" -frames:v 1 -q:v 4 "$out/mandelbrot.jpg"
"${ff[@]}" -f lavfi -i "testsrc2=size=320x180:rate=30:duration=2" \
  -f lavfi -i "sine=frequency=660:sample_rate=48000:duration=2" -shortest \
  -c:v libx264 -preset veryfast -crf 28 -pix_fmt yuv420p -c:a aac -b:a 48k "$out/testcard.mp4"
"${ff[@]}" -f lavfi -i "testsrc2=size=180x320:rate=25:duration=1.5" \
  -c:v libx264 -preset veryfast -crf 28 -pix_fmt yuv420p "$out/portrait.mp4"
