#!/usr/bin/env bash
# ci.sh: start an emulator on a free port from a shell, call it with curl, stop it.
set -euo pipefail
work=$(mktemp -d)
npx kraken-emulator --port 0 --in-memory --certs "$work/certs" --print-ready json \
  > "$work/ready.json" 2> "$work/emulator.log" &
pid=$!
# Up to 60 s: a busy CI runner can take a while to start Node.
for _ in $(seq 600); do [ -s "$work/ready.json" ] && break; sleep 0.1; done
[ -s "$work/ready.json" ] || { cat "$work/emulator.log" >&2; kill "$pid"; exit 1; }
url=$(jq -r .url "$work/ready.json")
# The ready line's pid is the emulator itself ($pid is npx).
trap 'kill "$(jq -r .pid "$work/ready.json")"; wait; rm -rf "$work"' EXIT

# --certs made the certificate a file: verify against it instead of using curl -k.
kraken() { curl -sS --fail-with-body --cacert "$work/certs/cert.pem" -b "$work/cookies" -c "$work/cookies" "$@"; }
kraken -H 'Content-Type: application/json' -d '{"username":"haiadmin","password":"krakenapi"}' "$url/apis/v2/login"
kraken "$url/apis/v2/streams" | jq -e '.stream_list | length > 0'
kraken -X POST "$url/_emulator/reset" | jq -e '.fixture == "default"'
