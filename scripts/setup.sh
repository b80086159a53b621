#!/usr/bin/env bash
# Installs what tilus needs (Debian packages), configures and builds it.
#   scripts/setup.sh [ninja targets...]
# Environment: BUILD_DIR (default: build), TILUS_BUILD_COMPILER (default: ON).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}

packages=(cmake ninja-build ccache python3 python3-numpy python3-torch git
          clang-19 libclang-rt-19-dev llvm-19-dev llvm-19-tools libmlir-19-dev mlir-19-tools
          libgtest-dev googletest libzstd-dev lld)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  if [[ $(id -u) != 0 ]]; then sudo=sudo; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The CUDA toolkit is optional: ptxas and nvcc make more tests run.
if [[ -d /usr/local/cuda/bin ]]; then export PATH="$PATH:/usr/local/cuda/bin"; fi

export CCACHE_BASEDIR=$root
if [[ ! -f $build_dir/build.ninja ]]; then
  cmake -G Ninja -S "$root" -B "$build_dir" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19 \
    -DPython3_EXECUTABLE=/usr/bin/python3 \
    -DTILUS_BUILD_COMPILER="${TILUS_BUILD_COMPILER:-ON}"
fi
ninja -C "$build_dir" "$@"
