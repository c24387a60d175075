#!/usr/bin/env bash
# Produces the README's table of Debian's postgresql-15-* packages through
# pgoci and through apt. It installs what .ci/e2e.sh installs for that
# comparison (the CNCF distribution registry, Debian's postgresql-15, every
# postgresql-15-* package of the apt sources with its OS dependencies),
# starts a registry and runs TestDebian, the end-to-end test CI runs, with
# PGOCI_E2E_REPORT set; then prints the Markdown it wrote. The downloads
# are cached under .work/ and reused by the next run.
#
# Run as root (the test installs into the system's PostgreSQL 15 and runs
# apt-get), from anywhere:
#   bash scripts/debian-catalogue.sh [OUT.md]
set -euo pipefail
out=${1:+$(realpath -m "$1")}   # before the cd: relative to the caller
cd "$(dirname "$0")/.."
source .ci/lib/tools.sh
source .ci/lib/postgres.sh
source .ci/lib/debian.sh

[ "$(id -u)" -eq 0 ] || { echo "run as root: the test installs Debian packages" >&2; exit 1; }
install_registry
install_pg15
install_debian

work=$(mktemp -d)
cleanup() {
  [ -n "${REGISTRY_PID:-}" ] && kill "$REGISTRY_PID" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
start_registry "$work/registry"

out=${out:-$work/debian.md}
if ! PGOCI_E2E=1 PGOCI_E2E_REGISTRY=$REGISTRY PGOCI_E2E_REPORT=$out \
  go test -tags e2e -count=1 -timeout 30m -run '^TestDebian$' -v ./e2e/ >"$work/test.log" 2>&1; then
  # The table is still worth seeing when pgoci loads fewer than apt.
  grep -v '^        20' "$work/test.log" | tail -n 60 >&2
  [ -e "$out" ] && cat "$out"
  exit 1
fi
echo "Produced by bash scripts/debian-catalogue.sh ($(date -u +%F); postgresql-15 $(dpkg-query -W -f='${Version}' postgresql-15), $(wc -l <"$PGOCI_E2E_DEBIAN/set/versions") packages):"
echo
cat "$out"
