#!/usr/bin/env bash
# The README's actor example is the code in tests/runtime/readme_example.cpp,
# which the tests build and run: the two must not drift apart.
set -euo pipefail
root="$(dirname "$0")/.."
extract() { sed -n '/^struct Counter/,/^}/p' "$1"; }
if ! diff <(extract "$root/tests/runtime/readme_example.cpp") <(extract "$root/README.md"); then
  echo "README.md's example differs from tests/runtime/readme_example.cpp (diff above)"
  exit 1
fi
echo "README example matches tests/runtime/readme_example.cpp"
