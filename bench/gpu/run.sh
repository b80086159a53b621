#!/usr/bin/env bash
# The GPU check, one call: run.sh [--device cuda|emu] [--repeat N]
#
# In a bundle (made by `ninja tilus-gpu-bundle`, or by this script in the
# repository): builds the runtime core with CMake (no LLVM), runs every case
# on the device against the outputs recorded on the emulator, and prints a
# table; with PyTorch present it also runs vector_add through the Python
# package on torch tensors and times torch's own add beside it, then
# a16wx_bench.py: matmul_a16wx against torch and Triton, and hopper_bench.py:
# the f16 matmuls (wgmma on sm_90a, mma.sync) and the low-bit prefill
# matmuls (matmul_a16wx_wgmma, M = 4096) against torch's cuBLAS
# (--device emu: the same on tiny shapes through the emulator, with numpy).
# In the repository: makes the bundle first (BUILD_DIR, default build-rt or
# build, must hold a build with the compiler) in BUNDLE_DIR (default
# BUILD_DIR/gpu-bundle), then runs it.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
device=cuda
for ((i = 1; i <= $#; i++)); do
  if [[ ${!i} == --device ]]; then j=$((i + 1)); device=${!j}; fi
done

if [[ ! -d $here/cases ]]; then
  root=$(cd "$here/../.." && pwd)
  build=${BUILD_DIR:-}
  if [[ -z $build ]]; then
    for b in "$root/build-rt" "$root/build"; do
      if [[ -x $b/bin/tilusc ]]; then build=$b; break; fi
    done
  fi
  [[ -n $build ]] || { echo "run.sh: no build with the compiler (set BUILD_DIR)" >&2; exit 1; }
  # Built only when missing: rebuilding a build folder that tests are using
  # would pull binaries from under them.
  if [[ ! -x $build/bin/tilusc || ! -x $build/bin/tilus-gpu-check ||
        ! -x $build/bin/tilus-pack-weights ]]; then
    ninja -C "$build" tilusc tilus-gpu-check tilus-pack-weights > /dev/null
  fi
  bundle=${BUNDLE_DIR:-$build/gpu-bundle}
  "$here/make-bundle.sh" "$build" "$bundle"
  exec "$bundle/run.sh" "$@"
fi

build=$here/build
generator=()
if command -v ninja > /dev/null; then generator=(-G Ninja); fi
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S "$here/src" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release \
    -DTILUS_BUILD_COMPILER=OFF -DTILUS_BUILD_TESTS=OFF > "$build.configure.log" 2>&1 ||
    { cat "$build.configure.log"; exit 1; }
fi
cmake --build "$build" --target tilus-gpu-check tilus tilus-pack-weights -j "$(nproc)" > "$build.build.log" 2>&1 ||
  { tail -50 "$build.build.log"; exit 1; }

status=0
"$build/bin/tilus-gpu-check" "$here/cases" "$@" || status=1

# The Python checks run on the first of $PYTHON, python3 and
# /usr/bin/python3 that can run the Python statement $1. A16WX_ARGS adds
# options to a16wx_bench.py (e.g. "--weights u4 --m 1,16 --reps 50").
find_python() {
  for p in ${PYTHON:-} python3 /usr/bin/python3; do
    if command -v "$p" > /dev/null && "$p" -c "$1" 2> /dev/null; then
      echo "$p"; return
    fi
  done
}
export TILUS_LIBRARY=$build/lib/libtilus.so
if [[ $device == emu ]]; then
  python=$(find_python "import numpy")
  if [[ -n $python ]]; then
    "$python" "$here/a16wx_bench.py" "$here" --device emu ${A16WX_ARGS:-} || status=1
    "$python" "$here/hopper_bench.py" "$here" --device emu || status=1
  else
    echo "matmul_a16wx bench skipped: no python3 with numpy"
  fi
else
  python=$(find_python "import torch; assert torch.cuda.is_available()")
  if [[ -n $python ]]; then
    "$python" "$here/torch_check.py" "$here" || status=1
    "$python" "$here/a16wx_bench.py" "$here" --device cuda ${A16WX_ARGS:-} || status=1
    "$python" "$here/hopper_bench.py" "$here" --device cuda ${HOPPER_ARGS:-} || status=1
  else
    echo "torch checks and matmul_a16wx bench skipped: no PyTorch with CUDA"
  fi
fi
exit $status
