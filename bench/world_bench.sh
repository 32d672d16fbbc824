#!/usr/bin/env bash
# Times `newsrl world` (and `newsrl data check` on its output): wall time,
# peak memory, bytes written, users per second. The output is removed after.
#   bench/world_bench.sh [USERS [NEWS]]      defaults: 50000 120000
#   NEWSRL_BIN=build/bin/newsrl  WORK=/tmp  CHECK=1 (also time data check)
set -euo pipefail
users="${1:-50000}"
news="${2:-120000}"
bin="${NEWSRL_BIN:-$(cd "$(dirname "$0")/.." && pwd)/build/bin/newsrl}"
work="${WORK:-${TMPDIR:-/tmp}}"
out=$(mktemp -d "$work/world_bench.XXXXXX")
trap 'rm -rf "$out"' EXIT
[ -x /usr/bin/time ] || { echo "world_bench: needs /usr/bin/time (apt-get install time)"; exit 2; }

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "command: newsrl world --users $users --news $news --out DIR --quiet"
/usr/bin/time -f "%e %M" -o "$out.time" "$bin" world --users "$users" --news "$news" --out "$out/w" --quiet
read -r secs kib <"$out.time"
bytes=$(du -sb "$out/w" | cut -f1)
awk -v s="$secs" -v k="$kib" -v b="$bytes" -v u="$users" 'BEGIN {
  printf "world: %.1f s wall, peak %.0f MiB, wrote %.2f GiB, %.0f users/s, %.1f MiB/s\n", s, k/1024, b/2^30, u/s, b/2^20/s }'
if [ "${CHECK:-1}" = 1 ]; then
  /usr/bin/time -f "%e %M" -o "$out.time" "$bin" data check "$out/w" >/dev/null
  read -r secs kib <"$out.time"
  awk -v s="$secs" -v k="$kib" -v b="$bytes" 'BEGIN {
    printf "data check: %.1f s wall, peak %.0f MiB, %.1f MiB/s\n", s, k/1024, b/2^20/s }'
fi
rm -f "$out.time"
