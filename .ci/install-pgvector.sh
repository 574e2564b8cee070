#!/usr/bin/env bash
# pgvector for the machine's PostgreSQL 15: Debian bookworm has no package for it, so it is built
# from Debian trixie's source package (0.8.x). Runs only when the extension is missing.
set -euo pipefail
PG_MAJOR="${PG_MAJOR:-15}"
PG_CONFIG="/usr/lib/postgresql/${PG_MAJOR}/bin/pg_config"
[ -x "$PG_CONFIG" ] || { echo "pgvector: no PostgreSQL ${PG_MAJOR} here, skipped"; exit 0; }
if [ -f "$("$PG_CONFIG" --sharedir)/extension/vector.control" ]; then
  echo "pgvector: already installed"
  exit 0
fi
SRC_LIST=/etc/apt/sources.list.d/trixie-src.sources
if [ ! -f "$SRC_LIST" ]; then
  cat >"$SRC_LIST" <<'LIST'
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
LIST
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  build-essential dpkg-dev "postgresql-server-dev-${PG_MAJOR}" >/dev/null
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
apt-get source -qq --download-only pgvector
dpkg-source -x --no-check ./pgvector_*.dsc src >/dev/null
cd src
make -s PG_CONFIG="$PG_CONFIG" OPTFLAGS=""
make -s install PG_CONFIG="$PG_CONFIG"
echo "pgvector: installed $(grep default_version "$("$PG_CONFIG" --sharedir)/extension/vector.control")"
