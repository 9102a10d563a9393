"""Rendering: subtitle layout and timing, stills, ffmpeg commands. Mostly pure functions."""
