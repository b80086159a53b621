#!/usr/bin/env bash
# The main job: set up, build, compile the headline example to PTX and check
# it with ptxas when the CUDA toolkit is present.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
"$root/scripts/setup.sh" tilusc
if [[ -d /usr/local/cuda/bin ]]; then export PATH="$PATH:/usr/local/cuda/bin"; fi

out=$root/out
mkdir -p "$out"
ptx=$out/vector_add.ptx
"$build_dir/bin/tilusc" "$root/examples/vector_add.tl" --arch=sm_80 -o "$ptx"
echo "quickstart: examples/vector_add.tl compiled to $ptx"
if command -v ptxas >/dev/null; then
  ptxas -arch=sm_80 "$ptx" -o "$out/vector_add.cubin"
  echo "quickstart: ptxas accepted it for sm_80 ($out/vector_add.cubin)"
else
  echo "quickstart: ptxas not found (no CUDA toolkit): PTX not assembled"
fi
