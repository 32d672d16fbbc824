#!/usr/bin/env bash
# The configs shipped in launch/configs are valid: `newsrl run` reads and
# checks every table of a config before its first stage, so each one is run
# up to its world stage (on a tiny world) and must get that far; the resolved
# config.toml keeps what the recipe sets.
#   tests/launch/configs_test.sh BUILD_BIN_DIR
set -u
bin="$1/newsrl"
configs="$(cd "$(dirname "$0")/../../launch/configs" && pwd)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=check_lib.sh
source "$(dirname "$0")/check_lib.sh"

n=0
for config in "$configs"/*.toml; do
  name=$(basename "$config" .toml)
  check "$name.toml" 0 "$bin" run --config "$config" --out "$tmp/$name" --until world \
    --set world.users=20 --set world.news=100
  [ -f "$tmp/$name/config.toml" ] || fail "$name.toml: no resolved config.toml"
  n=$((n + 1))
done
[ "$n" -ge 2 ] || fail "found $n configs in $configs, want quickstart and results at least"
# The results recipe: GRPO on the first 512 users, ret weighted up and spec down.
for line in 'max_users = 512' 'steps = 256'; do
  grep -qx "$line" "$tmp/results/config.toml" || fail "results: config.toml lacks '$line'" "$(cat "$tmp/results/config.toml")"
done
grep -A1 -x '\[rewards.ret\]' "$tmp/results/config.toml" | grep -qx 'weight = 3.0' ||
  fail "results: [rewards.ret] weight should be 3.0" "$(cat "$tmp/results/config.toml")"
finish
