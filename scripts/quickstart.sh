#!/usr/bin/env bash
# The main job: set up, build, compile the headline example to PTX (checked
# by ptxas when the CUDA toolkit is present), then run it on random inputs,
# verified element by element against the reference interpreter, on the GPU
# when there is one, else on the PTX emulator.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
"$root/scripts/setup.sh" tilusc
if [[ -d /usr/local/cuda/bin ]]; then export PATH="$PATH:/usr/local/cuda/bin"; fi

example=$root/examples/matmul_simt.tl
out=$root/out
mkdir -p "$out"
ptx=$out/matmul_simt.ptx
"$build_dir/bin/tilusc" "$example" --arch=sm_80 -o "$ptx"
echo "quickstart: examples/matmul_simt.tl compiled to $ptx"
if command -v ptxas >/dev/null; then
  ptxas -arch=sm_80 "$ptx" -o "$out/matmul_simt.cubin"
  echo "quickstart: ptxas accepted it for sm_80 ($out/matmul_simt.cubin)"
else
  echo "quickstart: ptxas not found (no CUDA toolkit): PTX not assembled"
fi
"$build_dir/bin/tilusc" "$example" --run --check --shape m=100,n=70,k=64
