#!/usr/bin/env bash
# Installs every Debian package newsrl needs to build and test. Idempotent:
# packages already present are skipped, so a second run is fast and quiet.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libopenmpi-dev openmpi-bin            # runtime: MPI transport
  libboost-serialization-dev            # runtime: wire format
  libhdf5-dev hdf5-tools                # runtime: checkpoint store
  libopenblas-dev                       # kernels: CPU GEMM
  libfaiss-dev                          # news: ANN index
  liblapack-dev                         # news: QR and SVD of the LSA fit (libfaiss-dev needs it too)
  libtomlplusplus-dev                   # configs
  nlohmann-json3-dev                    # JSONL and metrics
  libsimdjson-dev                       # news: fast JSONL for 500k-user evaluation
  libcli11-dev                          # the newsrl command line
  libpcre2-dev                          # Unicode-aware tokenizing
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
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
