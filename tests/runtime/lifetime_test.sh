#!/usr/bin/env bash
# How a job ends: cleanly with exit 0 when the driver returns; with a non-zero
# exit, a message naming rank and role, and within seconds when anything fails.
#   tests/runtime/lifetime_test.sh BUILD_BIN_DIR NP
set -u
bin="$1/runtime_fault_probe"
np="$2"
last=$((np - 1))
mpirun_flags=(--oversubscribe)
if [ "$(id -u)" -eq 0 ]; then mpirun_flags+=(--allow-run-as-root); fi
failures=0

# expect MODE EXIT(zero|nonzero) MAX_SECONDS [TEXT...]
# mpirun occasionally drops a rank's last stderr lines when the job aborts
# (about 1 run in 50 on a loaded 2-core machine): a scenario whose only fault
# is a missing line is run once more, and the retry is reported.
expect() {
  if ! try_once "$@" >/tmp/lifetime.$$ 2>&1; then
    if [ -z "$(grep '^FAIL' /tmp/lifetime.$$ | grep -v 'output lacks')" ]; then
      echo "retry $1: mpirun lost output once"
      try_once "$@" || failures=$((failures + 1))
    else
      cat /tmp/lifetime.$$
      failures=$((failures + 1))
    fi
  else
    cat /tmp/lifetime.$$
  fi
  rm -f /tmp/lifetime.$$
}

try_once() {
  local mode="$1" want="$2" max="$3"
  shift 3
  local out start end rc secs ms
  start=$(date +%s%N)
  out=$(timeout -k 10 120 mpirun "${mpirun_flags[@]}" -np "$np" "$bin" "$mode" 2>&1)
  rc=$?
  end=$(date +%s%N)
  ms=$(( (end - start) / 1000000 ))
  secs="$((ms / 1000)).$(printf %03d $((ms % 1000)))"
  local ok=1
  if [ "$rc" -eq 124 ] || [ "$ms" -ge 120000 ]; then ok=0; echo "FAIL $mode: hung (killed after 120 s)"; fi
  if [ "$want" = zero ] && [ "$rc" -ne 0 ]; then ok=0; echo "FAIL $mode: exit $rc, want 0"; fi
  if [ "$want" = nonzero ] && [ "$rc" -eq 0 ]; then ok=0; echo "FAIL $mode: exit 0, want non-zero"; fi
  if [ "$ms" -gt $((max * 1000)) ]; then ok=0; echo "FAIL $mode: took $secs s, want under $max s"; fi
  for text in "$@"; do
    if ! grep -qF -- "$text" <<<"$out"; then ok=0; echo "FAIL $mode: output lacks: $text"; fi
  done
  if grep -qF "the driver went on" <<<"$out"; then ok=0; echo "FAIL $mode: the driver did not stop"; fi
  if [ $ok -eq 1 ]; then
    echo "ok   $mode (np $np): exit $rc in $secs s"
    return 0
  fi
  echo "---- output of $mode ----"
  echo "$out" | head -40
  echo "-------------------------"
  return 1
}

expect ok zero 30
expect forgot-serve zero 30
if [ "$np" -gt 1 ]; then
  expect remote-error nonzero 30 "newsrl: rank $last (victim) Victim.explode: boom at step 3"
  expect uncaught nonzero 30 "rank $last (victim) Victim.explode: boom at step 3"
  # SIGKILL leaves no chance to speak: mpirun names the rank, the others list the roles.
  expect kill nonzero 30 "process rank $last" "was stopped by the launcher" "$last = victim"
  expect segv nonzero 30 "newsrl: rank $last (victim) crashed: Segmentation fault"
  expect exit nonzero 30 "newsrl: rank $last (victim) called exit() while the job was running"
fi
exit $failures
