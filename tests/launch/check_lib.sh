# Shared by the command-line tests in this folder (source it):
#   check NAME WANT_EXIT CMD...   runs CMD (5 minutes at most), its output in $out
#   has NAME TEXT                 $out must contain TEXT
#   fail NAME [OUTPUT]            counts a failure and shows what went wrong
#   finish                        the summary line; exit 1 when anything failed
failures=0
fail() {
  echo "FAIL $1"
  [ -n "${2:-}" ] && echo "$2" | head -20
  failures=$((failures + 1))
}
check() {
  local name="$1" want="$2"
  shift 2
  out=$(timeout 300 "$@" 2>&1)
  rc=$?
  if [ "$rc" -ne "$want" ]; then fail "$name: exit $rc, want $want" "$out"; return 1; fi
  echo "ok   $name"
}
has() { grep -qF -- "$2" <<<"$out" || fail "$1: output lacks: $2" "$out"; }
finish() {
  if [ "$failures" -eq 0 ]; then
    echo "all passed"
  else
    echo "$failures failed"
    exit 1
  fi
}
