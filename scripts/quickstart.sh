#!/usr/bin/env bash
# The main job: set up, build, compile the headline example (matmul_a16wx
# with 4-bit weights, the tile from the configuration table) to PTX (checked
# by ptxas when the CUDA toolkit is present), then run it on random inputs,
# verified element by element against the reference interpreter, on the GPU
# when there is one, else on the PTX emulator; and once more on the emulator
# with weights packed by the host helper, against a numpy reference.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
"$root/scripts/setup.sh" tilusc tilus-run tilus-dtype tilus-pack-weights
if [[ -d /usr/local/cuda/bin ]]; then export PATH="$PATH:/usr/local/cuda/bin"; fi
export PATH="$build_dir/bin:$PATH"
# Debian's Python, where python3-numpy is installed.
python=/usr/bin/python3
[[ -x $python ]] || python=python3

# The headline kernel: f16 activations x 4-bit weights in groups of 128.
example=$root/examples/matmul_a16wx.tl
m=16 n=256 k=512 group=128
out=$root/out
mkdir -p "$out"
# The block tile from the configuration table (docs/matmul.md).
tile=$(tilus-pack-weights --bits 4 --m $m --n $n --k $k --group $group)
echo "quickstart: tile for M=$m N=$n K=$k u4 g$group: $tile"
ptx=$out/matmul_a16wx_u4.ptx
# shellcheck disable=SC2086
tilusc "$example" -D W=u4 -D G=$group $tile --arch=sm_80 -o "$ptx"
echo "quickstart: examples/matmul_a16wx.tl (W=u4) compiled to $ptx"
if command -v ptxas >/dev/null; then
  ptxas -arch=sm_80 "$ptx" -o "$out/matmul_a16wx_u4.cubin"
  echo "quickstart: ptxas accepted it for sm_80 ($out/matmul_a16wx_u4.cubin)"
else
  echo "quickstart: ptxas not found (no CUDA toolkit): PTX not assembled"
fi
# Run it (GPU when there is one, else the emulator) on random inputs, every
# element checked against the reference interpreter...
# shellcheck disable=SC2086
tilusc "$example" -D W=u4 -D G=$group $tile --run --check --shape m=$m,n=$n,k=$k
# ...and on the emulator with weights packed by the host helper, every
# element checked against numpy's float64 product of the dequantized weights.
"$python" "$root/test/lit/e2e/Inputs/a16wx_check.py" "$out/a16wx" W=u4 G=$group $m,$n,$k
