#!/usr/bin/env bash
# bench-unpack.sh: unpack the same generated layer with pgoci and by hand, in
# one run, and print pgoci's time as a ratio of the hand-made way.
#
#   scripts/bench-unpack.sh            # the PostgreSQL-shaped layer (~60 MB, 1,000 files)
#   BIG=1 scripts/bench-unpack.sh      # also the 1 GiB layer
#   ROUNDS=7 scripts/bench-unpack.sh   # more rounds (median reported; default 5)
#
# Hand-made equivalents, each timed as a whole:
#   zstd: sha256sum blob && zstd -dc blob | tar -x      (verified, then extracted)
#         zstd -dc blob | tar -x                         (GNU tar+zstd, no verification)
#   gzip: sha256sum blob && tar -xzf blob
#         tar -xzf blob
# pgoci verifies digest and size while it extracts, stages, and renames.
# Needs: go, GNU tar, zstd, gzip, sha256sum. Writes under ${TMPDIR:-/tmp}.
set -euo pipefail

ROUNDS=${ROUNDS:-5}
cd "$(dirname "$0")/.."
work=$(mktemp -d "${TMPDIR:-/tmp}/pgoci-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

go build -o "$work/benchcmd" ./unpack/internal/benchcmd

now() { date +%s.%N; }

# timed CMD...: run CMD, print elapsed seconds.
timed() {
	local t0 t1
	t0=$(now)
	"$@" >/dev/null
	t1=$(now)
	echo "$t1 - $t0" | bc -l
}

median() { sort -g | awk '{a[NR]=$1} END {m=a[int((NR+1)/2)]; printf "%.3f", m}'; }

bench_layer() {
	local name=$1 files=$2 size=$3
	local blob="$work/$name.tar"
	echo "== $name: generating ($files files, $size bytes of content)"
	"$work/benchcmd" gen -files "$files" -size "$size" -out "$blob"
	ls -l "$blob" "$blob.zst" "$blob.gz" | awk '{print "   " $5 "\t" $9}'
	local -A t=()
	local rss=""
	for r in $(seq "$ROUNDS"); do
		for kind in pgoci_zstd hand_zstd tar_zstd pgoci_gzip hand_gzip tar_gzip pgoci_zstd_durable; do
			local d="$work/out-$kind-$r"
			local s
			case $kind in
			pgoci_zstd)
				out=$("$work/benchcmd" unpack -blob "$blob.zst" -dst "$d")
				s=$(sed 's/.*seconds=\([0-9.]*\).*/\1/' <<<"$out"); rss=$(sed 's/.*maxrss_mib=\([0-9.]*\).*/\1/' <<<"$out") ;;
			pgoci_zstd_durable)
				out=$("$work/benchcmd" unpack -durable -blob "$blob.zst" -dst "$d")
				s=$(sed 's/.*seconds=\([0-9.]*\).*/\1/' <<<"$out") ;;
			pgoci_gzip)
				out=$("$work/benchcmd" unpack -blob "$blob.gz" -dst "$d")
				s=$(sed 's/.*seconds=\([0-9.]*\).*/\1/' <<<"$out") ;;
			hand_zstd) mkdir "$d"; s=$(timed sh -c "sha256sum '$blob.zst' && zstd -dc '$blob.zst' | tar -x -C '$d'") ;;
			tar_zstd) mkdir "$d"; s=$(timed sh -c "zstd -dc '$blob.zst' | tar -x -C '$d'") ;;
			hand_gzip) mkdir "$d"; s=$(timed sh -c "sha256sum '$blob.gz' && tar -xzf '$blob.gz' -C '$d'") ;;
			tar_gzip) mkdir "$d"; s=$(timed tar -xzf "$blob.gz" -C "$d") ;;
			esac
			t[$kind]+="$s "
		done
		rm -rf "$work"/out-*
		sync
	done
	declare -A m=()
	for k in "${!t[@]}"; do m[$k]=$(tr ' ' '\n' <<<"${t[$k]}" | grep . | median); done
	printf '   %-44s %8s %8s\n' "what (median of $ROUNDS)" seconds ratio
	row() { printf '   %-44s %8s %8s\n' "$1" "$2" "${3:-}"; }
	ratio() { echo "$1 / $2" | bc -l | xargs printf '%.2f'; }
	row "pgoci zstd (verified, staged)" "${m[pgoci_zstd]}"
	row "sha256sum + zstd -dc | tar -x" "${m[hand_zstd]}" "$(ratio "${m[pgoci_zstd]}" "${m[hand_zstd]}")"
	row "zstd -dc | tar -x (unverified)" "${m[tar_zstd]}" "$(ratio "${m[pgoci_zstd]}" "${m[tar_zstd]}")"
	row "pgoci gzip (verified, staged)" "${m[pgoci_gzip]}"
	row "sha256sum + tar -xzf" "${m[hand_gzip]}" "$(ratio "${m[pgoci_gzip]}" "${m[hand_gzip]}")"
	row "tar -xzf (unverified)" "${m[tar_gzip]}" "$(ratio "${m[pgoci_gzip]}" "${m[tar_gzip]}")"
	row "pgoci zstd, Durable (fsync)" "${m[pgoci_zstd_durable]}" "$(ratio "${m[pgoci_zstd_durable]}" "${m[pgoci_zstd]}")x"
	echo "   pgoci peak RSS (zstd): ${rss} MiB"
	echo "   ratio = pgoci time / that command's time (<= 1.00: pgoci is as fast or faster)"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -sr)"
echo "tools: $(tar --version | head -1), $(zstd --version | head -1), $(go version | cut -d' ' -f3)"
bench_layer pg60MB 1000 $((60 << 20))
if [[ ${BIG:-0} == 1 ]]; then
	bench_layer big1GiB 8000 $((1 << 30))
fi
