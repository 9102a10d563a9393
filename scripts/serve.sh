#!/usr/bin/env bash
# The Dagster webserver (UI + GraphQL, on 127.0.0.1 unless HOST says otherwise) and the daemon (run
# queue, run monitoring, run retries, sensors, schedules) on the project's one dagster.yaml.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
: "${DAGSTER_HOME:?set DAGSTER_HOME (the Makefile does)}"
# create the instance's storage first, so the daemon and the webserver do not race to create it
"$BIN/dagster" instance info >/dev/null
"$BIN/dagster-daemon" run -w workspace.yaml &
daemon=$!
trap 'kill "$daemon" 2>/dev/null; wait "$daemon" 2>/dev/null' EXIT INT TERM
"$BIN/dagster-webserver" -h "${HOST:-127.0.0.1}" -p "${PORT:-3000}" -w workspace.yaml
