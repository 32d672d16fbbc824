#!/usr/bin/env bash
# mpirun with the flags a laptop or a CI box needs: more ranks than cores
# (--oversubscribe), no binding of a rank to one core (--bind-to none: each
# rank then takes its share of the node's cores for its threads, see
# docs/runtime.md "Threads per rank") and, as root, --allow-run-as-root.
#   launch/mpirun.sh RANKS build/bin/newsrl SUBCOMMAND [ARGS...]
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: launch/mpirun.sh RANKS PROGRAM [ARGS...]" >&2
  exit 2
fi
ranks="$1"
shift
flags=(--oversubscribe --bind-to none)
if [ "$(id -u)" -eq 0 ]; then flags+=(--allow-run-as-root); fi
exec mpirun "${flags[@]}" -np "$ranks" "$@"
