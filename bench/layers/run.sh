#!/usr/bin/env bash
# bench/layers/run.sh: kiln's layer writing and extraction side by side with
# tar|gzip -1, tar|pigz, tar|zstd -T0 -3 and tar -x, on a loop-mounted
# journaled ext4 image (the root fs here has no journal; MACHINE.md).
#
#   sudo bench/layers/run.sh [RESULTS.md]      (root: it mounts a loop image)
#
# Environment: KILN_BENCH_IMG (default /var/tmp/kiln-bench-layers.img, 10G
# sparse), KILN_BENCH_MNT (default /mnt/kiln-bench-layers), KILN_BENCH_REPS
# (default 3; the best time of the repetitions is reported, peers and kiln
# interleaved), KILN_BENCH_FILES / KILN_BENCH_BYTES / KILN_BENCH_BIG (tree
# size and big-file size). The loop mount and image are removed at exit.
# KILN_BENCH_BOOST=1 runs every timed command (kiln's and the peers' alike)
# in a session of its own whose autogroup has nice -15, so it gets the cores
# as on an idle machine; other users' work slows down meanwhile. Without it,
# on a machine busy with other sessions, a pipeline of processes talking
# through pipes (tar | zstd) gets up to twice the CPU share of one
# multi-threaded process doing the same work (bench/README.md, "layers").
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
img=${KILN_BENCH_IMG:-/var/tmp/kiln-bench-layers.img}
mnt=${KILN_BENCH_MNT:-/mnt/kiln-bench-layers}
reps=${KILN_BENCH_REPS:-3}
files=${KILN_BENCH_FILES:-20000}
bytes=${KILN_BENCH_BYTES:-314572800}
big=${KILN_BENCH_BIG:-1073741824}
results=${1:-/dev/stdout}

for tool in pigz zstd gzip tar /usr/bin/time mkfs.ext4 cmake ninja; do
  command -v "$tool" >/dev/null || { echo "missing $tool" >&2; exit 1; }
done

build="$src/build-bench"
cmake -S "$here" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build" -j2 kiln_bench_layers >&2
bin="$build/kiln_bench_layers"

mounted=0
cleanup() {
  cd /
  if [ "$mounted" = 1 ]; then umount "$mnt" || umount -l "$mnt"; fi
  rm -f "$img"
  rmdir "$mnt" 2>/dev/null || true
}
trap cleanup EXIT
truncate -s 10G "$img"
mkfs.ext4 -q -F "$img"
mkdir -p "$mnt"
mount -o loop "$img" "$mnt"
mounted=1
cd "$mnt"

echo "generating data..." >&2
"$bin" gen-tree tree "$files" "$bytes" >/dev/null
mkdir big && "$bin" gen-file big/blob "$big"
sync

# measure NAME CMD...: best wall time (s) and peak RSS (MiB) over $reps runs;
# runs PREP (a shell snippet) untimed before each.
# Also the least CPU time (user + sys, all processes): the machine is shared,
# and under load the wall time mostly says how many threads a tool runs.
boost=
if [ "${KILN_BENCH_BOOST:-0}" = 1 ]; then
  printf '#!/bin/sh\necho -15 >/proc/self/autogroup && exec "$@"\n' >boost.sh
  chmod +x boost.sh
  boost="setsid -w $PWD/boost.sh"
fi
declare -A best worst rss cpu
measure() {
  local name=$1 prep=$2; shift 2
  local i t m u s c
  for ((i = 0; i < reps; i++)); do
    eval "$prep"
    sync
    /usr/bin/time -f "%e %M %U %S" -o time.out $boost "$@" >/dev/null
    read -r t m u s <time.out
    c=$(awk "BEGIN{printf \"%.2f\", $u + $s}")
    if [ -z "${best[$name]:-}" ] || awk "BEGIN{exit !($t < ${best[$name]})}"; then best[$name]=$t; fi
    if [ -z "${worst[$name]:-}" ] || awk "BEGIN{exit !($t > ${worst[$name]})}"; then worst[$name]=$t; fi
    if [ -z "${cpu[$name]:-}" ] || awk "BEGIN{exit !($c < ${cpu[$name]})}"; then cpu[$name]=$c; fi
    if [ -z "${rss[$name]:-}" ] || [ "$m" -gt "${rss[$name]}" ]; then rss[$name]=$m; fi
  done
}
size() { stat -c %s "$1"; }
sec() { echo "${best[$1]} (${worst[$1]})"; }  # best (worst) of the repetitions
loadavg() { cut -d' ' -f1 /proc/loadavg; }
declare -A load_w load_x

for s in tree big; do
  cat $(find $s -type f) >/dev/null  # warm the page cache: every tool reads from memory
  load_w[$s]="$(loadavg)"
  for r in $(seq 1 "$reps"); do
    reps_save=$reps; reps=1
    measure "$s.kiln.gzip" "rm -f $s.k.gz" "$bin" write $s $s.k.gz gzip
    measure "$s.pigz" "rm -f $s.pigz.gz" sh -c "tar -cf - -C $s . | pigz > $s.pigz.gz"
    measure "$s.kiln.zstd" "rm -f $s.k.zst" "$bin" write $s $s.k.zst zstd
    measure "$s.zstd" "rm -f $s.z.zst" sh -c "tar -cf - -C $s . | zstd -q -T0 -3 > $s.z.zst"
    measure "$s.kiln.none" "rm -f $s.k.tar" "$bin" write $s $s.k.tar none
    measure "$s.tar" "rm -f $s.t.tar" sh -c "tar -cf - -C $s . > $s.t.tar"
    if [ "$r" = 1 ]; then
      measure "$s.gzip1" "rm -f $s.g1.gz" sh -c "tar -cf - -C $s . | gzip -1 > $s.g1.gz"
    fi
    reps=$reps_save
  done
  load_w[$s]="${load_w[$s]}-$(loadavg)"
  load_x[$s]="$(loadavg)"
  for r in $(seq 1 "$reps"); do
    reps_save=$reps; reps=1
    for kind in none:k.tar gzip:k.gz zstd:k.zst; do
      c=${kind%%:*}; f=$s.${kind#*:}
      measure "$s.x.kiln.$c" "rm -rf x; " "$bin" extract $f x
    done
    measure "$s.x.tar.none" "rm -rf x; mkdir x" tar -xf $s.k.tar -C x
    measure "$s.x.tar.gzip" "rm -rf x; mkdir x" tar -xzf $s.k.gz -C x
    measure "$s.x.tar.zstd" "rm -rf x; mkdir x" tar -I zstd -xf $s.k.zst -C x
    reps=$reps_save
  done
  load_x[$s]="${load_x[$s]}-$(loadavg)"
  rm -rf x
  sz_k_gz=$(size $s.k.gz); sz_pigz=$(size $s.pigz.gz); sz_k_zst=$(size $s.k.zst); sz_zst=$(size $s.z.zst)
  sz_g1=$(size $s.g1.gz); sz_tar=$(size $s.k.tar)
  r() { awk "BEGIN{printf \"%.2f\", $1 / $2}"; }
  mib() { awk "BEGIN{printf \"%.0f\", $1 / 1024}"; }
  {
    echo
    echo "### $s ($([ $s = tree ] && echo "$files files, $(du -sb tree | cut -f1) bytes" || echo "one file of $big bytes"); tar $sz_tar bytes)"
    echo
    echo "Load average (1 min) over the writes ${load_w[$s]}, over the extractions ${load_x[$s]}; seconds: best (worst) of $reps."
    echo
    echo "| write | seconds | CPU s | size (bytes) | peak RSS (MiB) | speed vs peer | CPU vs peer | size vs peer |"
    echo "|---|---|---|---|---|---|---|---|"
    echo "| kiln gzip (libdeflate 4, 1 MiB members) | $(sec $s.kiln.gzip) | ${cpu[$s.kiln.gzip]} | $sz_k_gz | $(mib ${rss[$s.kiln.gzip]}) | $(r ${best[$s.pigz]} ${best[$s.kiln.gzip]})x tar\\|pigz | $(r ${cpu[$s.kiln.gzip]} ${cpu[$s.pigz]}) | $(r $sz_k_gz $sz_pigz) |"
    echo "| tar \\| pigz (-6) | $(sec $s.pigz) | ${cpu[$s.pigz]} | $sz_pigz | $(mib ${rss[$s.pigz]}) | | | |"
    echo "| tar \\| gzip -1 | $(sec $s.gzip1) | ${cpu[$s.gzip1]} | $sz_g1 | $(mib ${rss[$s.gzip1]}) | | | |"
    echo "| kiln zstd -3 (zstd workers) | $(sec $s.kiln.zstd) | ${cpu[$s.kiln.zstd]} | $sz_k_zst | $(mib ${rss[$s.kiln.zstd]}) | $(r ${best[$s.zstd]} ${best[$s.kiln.zstd]})x tar\\|zstd | $(r ${cpu[$s.kiln.zstd]} ${cpu[$s.zstd]}) | $(r $sz_k_zst $sz_zst) |"
    echo "| tar \\| zstd -T0 -3 | $(sec $s.zstd) | ${cpu[$s.zstd]} | $sz_zst | $(mib ${rss[$s.zstd]}) | | | |"
    echo "| kiln none | $(sec $s.kiln.none) | ${cpu[$s.kiln.none]} | $sz_tar | $(mib ${rss[$s.kiln.none]}) | $(r ${best[$s.tar]} ${best[$s.kiln.none]})x tar -c | $(r ${cpu[$s.kiln.none]} ${cpu[$s.tar]}) | |"
    echo "| tar -c | $(sec $s.tar) | ${cpu[$s.tar]} | $(size $s.t.tar) | $(mib ${rss[$s.tar]}) | | | |"
    echo
    echo "| extract | seconds | CPU s | peak RSS (MiB) | time vs tar -x | CPU vs tar -x |"
    echo "|---|---|---|---|---|---|"
    for c in none gzip zstd; do
      echo "| kiln $c | $(sec $s.x.kiln.$c) | ${cpu[$s.x.kiln.$c]} | $(mib ${rss[$s.x.kiln.$c]}) | $(r ${best[$s.x.kiln.$c]} ${best[$s.x.tar.$c]}) | $(r ${cpu[$s.x.kiln.$c]} ${cpu[$s.x.tar.$c]}) |"
      echo "| tar -x ($c) | $(sec $s.x.tar.$c) | ${cpu[$s.x.tar.$c]} | $(mib ${rss[$s.x.tar.$c]}) | | |"
    done
  } >>"$results"
  rm -f $s.*.gz $s.*.zst $s.*.tar
done
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)$([ -n "$boost" ] && echo "; KILN_BENCH_BOOST=1 (timed commands at autogroup nice -15)")" >>"$results"
