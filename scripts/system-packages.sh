#!/usr/bin/env bash
# System packages the offline defaults need: ffmpeg (with ffprobe), espeak-ng, a CJK font; with
# --test also what the tests need (Debian's chromium, for the pictures in the Dagster UI).
# Installs what is missing when run as root; otherwise says what to install.
set -euo pipefail
missing=()
command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || missing+=(ffmpeg)
command -v espeak-ng >/dev/null || missing+=(espeak-ng)
command -v fc-list >/dev/null || missing+=(fontconfig)
if ! command -v fc-list >/dev/null || [ -z "$(fc-list :lang=zh-cn file 2>/dev/null)" ]; then missing+=(fonts-noto-cjk); fi
if ! command -v fc-list >/dev/null || [ -z "$(fc-list :lang=en file 2>/dev/null)" ]; then missing+=(fonts-dejavu-core); fi
if [ "${1:-}" = "--test" ]; then command -v chromium >/dev/null || missing+=(chromium); fi
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  echo "Installing system packages: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "Missing system packages: ${missing[*]}" >&2
  echo "Install them (e.g. sudo apt-get install ${missing[*]}) and run make again." >&2
  exit 1
fi
