#!/usr/bin/env bash
# End-to-end suite: installs the real components (CNCF distribution
# registry, skopeo, umoci, crane, oras), starts the registry on a loopback
# port with its own config and storage, and runs the Go tests tagged e2e
# against them. Run from the repository root: bash .ci/e2e.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/lib/tools.sh

install_peer_tools
install_registry

work=$(mktemp -d)
cleanup() {
  [ -n "${REGISTRY_PID:-}" ] && kill "$REGISTRY_PID" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

start_registry "$work/registry"
echo "registry: CNCF distribution $(dpkg-query -W -f='${Version}' docker-registry) at $REGISTRY"
echo "peers: $(crane version 2>&1), oras $(oras version 2>/dev/null | awk '/^Version/{print $2}'), $(skopeo --version), $(umoci --version)"

PGOCI_E2E=1 PGOCI_E2E_REGISTRY=$REGISTRY go test -tags e2e -count=1 -v ./e2e/...

