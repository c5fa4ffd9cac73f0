# Sourced by image.test.ts before the README's Docker commands: `docker` is played by podman, and
# the names those commands use become this run's own, so the run stays off the machine's port 443
# and its names. NAME, TAG, PORT and NODE_IMAGE come from the test.
set -euo pipefail
map () {
  local a
  for a in "$@"; do
    case "$a" in
      kraken) printf '%s\0' "$NAME" ;;
      kraken-emulator) printf '%s\0' "$TAG" ;;
      kraken-data:/data) printf '%s\0' "$NAME-data:/data" ;;
      kraken-certs:/certs) printf '%s\0' "$NAME-certs:/certs" ;;
      443:8443) printf '%s\0' "127.0.0.1:$PORT:8443" ;;
      *) printf '%s\0' "$a" ;;
    esac
  done
}
docker () {
  local args
  mapfile -d '' args < <(map "$@")
  if [ "$1" = build ]; then
    # --pull=never: no registry here; --format docker keeps the HEALTHCHECK.
    podman build --pull=never --format docker --build-arg "NODE_IMAGE=$NODE_IMAGE" "${args[@]:1}"
  else
    podman "${args[@]}"
  fi
}
curl () {
  local a args=()
  for a in "$@"; do args+=("${a/#https:\/\/localhost\//https://localhost:$PORT/}"); done
  command curl "${args[@]}"
}
