#!/usr/bin/env bash
# The music file of examples/music-file.yaml: 9 s of the project's own "bright" bed (pipeline/render/music.py,
# CC0), as Ogg Vorbis. Run from the repository: bash scripts/sample-music.sh
set -euo pipefail
out="${1:-data/sources/music}"
mkdir -p "$out"
.venv/bin/python - "$out/bright-loop.wav" <<'PY'
import sys
import numpy as np
from pipeline.render.audio import write_wav
from pipeline.render.music import RATE, generated_loop
write_wav(sys.argv[1], np.round(generated_loop("bright") * 32767).astype(np.int16), RATE)
PY
ffmpeg -hide_banner -loglevel error -nostdin -y -i "$out/bright-loop.wav" -c:a libvorbis -q:a 2 \
  -metadata title="bright loop" -metadata copyright="CC0-1.0, content-pipeline" "$out/bright-loop.ogg"
rm "$out/bright-loop.wav"
