#!/usr/bin/env bash
# The newsrl command line from outside: help, the doctor on 1 and 4 ranks,
# its JSON output, a short soak, and one clear line (exit 2) for each kind of
# bad config.
#   tests/launch/cli_test.sh BUILD_BIN_DIR
set -u
bin="$1/newsrl"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mpirun_flags=(--oversubscribe)
if [ "$(id -u)" -eq 0 ]; then mpirun_flags+=(--allow-run-as-root); fi
failures=0

fail() {
  echo "FAIL $1"
  [ -n "${2:-}" ] && echo "$2" | head -30
  failures=$((failures + 1))
}

# check NAME WANT_EXIT COMMAND... ; then `has TEXT` / `lacks TEXT` on $out
check() {
  local name="$1" want="$2"
  shift 2
  out=$(timeout 120 "$@" 2>&1)
  rc=$?
  if [ "$rc" -ne "$want" ]; then fail "$name: exit $rc, want $want" "$out"; return 1; fi
  echo "ok   $name"
}
has() { grep -qF -- "$2" <<<"$out" || fail "$1: output lacks: $2" "$out"; }

check "help lists doctor" 0 "$bin" --help && has help "doctor"
check "no subcommand is an error" 106 "$bin"
check "unknown flag is an error" 109 "$bin" doctor --frobnicate

check "doctor, 1 rank" 0 "$bin" doctor --pings 20 --bandwidth-mib 1
has "doctor, 1 rank" "all well"
has "doctor, 1 rank" "driver, rollout, reward, learner"

check "doctor, 4 ranks" 0 mpirun "${mpirun_flags[@]}" -np 4 "$bin" doctor --pings 20 --bandwidth-mib 1
has "doctor, 4 ranks" "4 ranks"
has "doctor, 4 ranks" "all well"
for r in 0 1 2 3; do has "doctor, 4 ranks" "rank $r ok" || true; done

cat >"$tmp/place.toml" <<'TOML'
[placement]
rollout = 2
learner = [2, 3]
reward = [1]
teacher = "all"
TOML
check "doctor --json with a placement" 0 mpirun "${mpirun_flags[@]}" -np 4 "$bin" doctor --config "$tmp/place.toml" --json --pings 10 --bandwidth-mib 1
has "doctor --json" '{"errors":0,"event":"result","ok":true}'
has "doctor --json" '"event":"group","ranks":2,"role":"learner"}'
has "doctor --json" '"actor":"reward@1","event":"ping","rtt_us":'
n_json=$(grep -c '^{' <<<"$out")
[ "$n_json" -ge 10 ] || fail "doctor --json: only $n_json JSON lines" "$out"
if grep -v '^{' <<<"$out" | grep -q .; then fail "doctor --json: non-JSON lines" "$out"; fi

check "doctor soak" 0 mpirun "${mpirun_flags[@]}" -np 2 "$bin" doctor --seconds 2 --pings 10 --bandwidth-mib 1
has "doctor soak" "soak: "
has "doctor soak" " 0 errors"

printf '[placement]\nrolout = 1\nlearner = 9\n' >"$tmp/bad.toml"
check "bad placement: one line per mistake" 2 mpirun "${mpirun_flags[@]}" -np 2 "$bin" doctor --config "$tmp/bad.toml"
has "bad placement" "newsrl: $tmp/bad.toml [placement] unknown role \"rolout\" (known roles: rollout, reward, learner, teacher, node)"
has "bad placement" "$tmp/bad.toml [placement] learner asks for 9 ranks, but the job has 2 ranks (mpirun -np 2)"
[ "$(grep -c 'placement' <<<"$out")" -eq 2 ] || fail "bad placement: printed more than once per mistake" "$out"

printf '[placement\nrollout = 1\n' >"$tmp/syntax.toml"
check "TOML syntax error names file and line" 2 "$bin" doctor --config "$tmp/syntax.toml"
has "syntax" "$tmp/syntax.toml line 1, column"

check "missing config file" 105 "$bin" doctor --config "$tmp/nope.toml"
has "missing config" "File does not exist"

printf '[placement]\nnode = 1\n' >"$tmp/node.toml"
check "the doctor's own role is refused" 2 "$bin" doctor --config "$tmp/node.toml"

exit $failures
