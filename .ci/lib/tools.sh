# Sourced by the .ci/e2e-*.sh scripts: installs the real components the
# end-to-end checks run against, pinned, and puts them on PATH. Installing is
# a step, not an assumption: a fresh machine gets everything from here.

TOOLS_DIR=${TOOLS_DIR:-$PWD/.work/tools}
CRANE_VERSION=v0.22.1   # github.com/google/go-containerregistry/cmd/crane
ORAS_VERSION=v1.3.6     # oras.land/oras/cmd/oras
COSIGN_VERSION=v3.1.3   # github.com/sigstore/cosign/v3/cmd/cosign
export PATH="$TOOLS_DIR/bin:$PATH"

apt_install() {
  local missing=()
  for pkg in "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

go_install() { # module@version binary
  local bin=$2
  [ -x "$TOOLS_DIR/bin/$bin" ] && "$TOOLS_DIR/bin/$bin" version >/dev/null 2>&1 && return 0
  echo "installing $1"
  GOBIN="$TOOLS_DIR/bin" go install "$1"
}

install_peer_tools() {
  apt_install skopeo umoci
  go_install "github.com/google/go-containerregistry/cmd/crane@${CRANE_VERSION}" crane
  go_install "oras.land/oras/cmd/oras@${ORAS_VERSION}" oras
}

# install_cosign: the real cosign CLI, built from source with the machine's
# Go (v3.1.3 builds with Go 1.26; about 10 minutes on 2 cores the first
# time), reinstalled when the one in $TOOLS_DIR/bin is another version.
install_cosign() {
  if [ -x "$TOOLS_DIR/bin/cosign" ] &&
     "$TOOLS_DIR/bin/cosign" version 2>/dev/null | grep -q "GitVersion: *${COSIGN_VERSION}\$"; then
    return 0
  fi
  echo "installing github.com/sigstore/cosign/v3/cmd/cosign@${COSIGN_VERSION}"
  GOBIN="$TOOLS_DIR/bin" go install "github.com/sigstore/cosign/v3/cmd/cosign@${COSIGN_VERSION}"
}

install_registry() { apt_install docker-registry; }

# start_registry DIR: starts CNCF distribution on a free loopback port with
# storage under DIR; sets REGISTRY (host:port) and REGISTRY_PID.
start_registry() {
  local dir=$1 port
  mkdir -p "$dir/storage"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  cat >"$dir/config.yml" <<CFG
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $dir/storage
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
CFG
  /usr/bin/docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
  REGISTRY_PID=$!
  REGISTRY=127.0.0.1:$port
  for _ in $(seq 1 100); do
    curl -fsS "http://$REGISTRY/v2/" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "registry did not start; log:"; cat "$dir/registry.log"; return 1
}
