#!/bin/sh
# The maas image's entrypoint. The image runs with a read-only root filesystem: only $MAAS_DATA_DIR
# (/data) and /tmp are writable, so every default that would write elsewhere is pointed there.
#
#   docker run maas serve              the platform (admin API, gateway, console) on 0.0.0.0:8080
#   docker run maas agent --server …   the node agent (GPU nodes)
#   docker run maas migrate            apply pending migrations under the advisory lock, then exit
#   docker run maas <any maas command> the CLI (login, models ls, chat …)
#   docker run maas sh                 a shell, node or an absolute path runs as it is
set -eu

app_dir=$(CDPATH='' cd -- "$(dirname -- "$0")/.." && pwd)

# Files maas writes (database, secret key, spool, agent credentials, CLI tokens) are owner-only.
umask 077

export MAAS_DATA_DIR="${MAAS_DATA_DIR:-/data}"
export MAAS_AGENT_DATA_DIR="${MAAS_AGENT_DATA_DIR:-$MAAS_DATA_DIR/agent}"
export MAAS_CONFIG_DIR="${MAAS_CONFIG_DIR:-$MAAS_DATA_DIR/cli}"
export TMPDIR="${TMPDIR:-/tmp}"

# the production build (npm run build): the CLI and the server compiled into one bundle
maas() {
  exec node "$app_dir/dist/maas.mjs" "$@"
}

if [ "$#" -eq 0 ]; then
  set -- serve
fi

case "$1" in
  serve)
    shift
    # in a container the platform listens on every interface unless told otherwise
    export MAAS_HOST="${MAAS_HOST:-0.0.0.0}"
    maas serve "$@"
    ;;
  sh | bash | node | /*)
    exec "$@"
    ;;
  *)
    maas "$@"
    ;;
esac
