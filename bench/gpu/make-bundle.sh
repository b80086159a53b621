#!/usr/bin/env bash
# Prepares the GPU check bundle: make-bundle.sh BUILD_DIR OUT_DIR
# BUILD_DIR must hold bin/tilusc, bin/tilus-gpu-check and
# bin/tilus-pack-weights (a build with the compiler). OUT_DIR gets src/ (the
# runtime core's sources), cases/ (PTX, metadata, inputs, expected outputs),
# a16wx/ (a16wx_bench.py's kernels: PTX, metadata and configs.txt), run.sh
# and the Python checks; OUT_DIR.tar.gz packs it.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=$(cd "$1" && pwd)
out=$2
rm -rf "$out"
mkdir -p "$out/src" "$out/cases"

# Sources: what a core-only configure reads (tracked and new files alike; all
# files of those folders outside a git checkout).
dirs=(CMakeLists.txt cmake include support ir runtime tools bench python examples)
list_sources() {
  if git -C "$root" rev-parse --is-inside-work-tree > /dev/null 2>&1; then
    git -C "$root" ls-files -co --exclude-standard -- "${dirs[@]}"
  else
    (cd "$root" && find "${dirs[@]}" -type f -not -path '*/__pycache__/*')
  fi
}
list_sources | (cd "$root" && while read -r f; do [[ -f $f ]] && echo "$f"; done |
  tar -cf - -T -) | tar -xf - -C "$out/src"

# Cases: compile each kernel, then record inputs and outputs on the emulator.
: > "$out/cases/cases.txt"
grep -v '^#' "$root/bench/gpu/cases.spec" | while read -r name source defines scalars outputs tol; do
  [[ -z $name ]] && continue
  args=()
  if [[ $defines != - ]]; then
    IFS=, read -ra ds <<< "$defines"
    for d in "${ds[@]}"; do args+=(-D "$d"); done
  fi
  "$build/bin/tilusc" "$root/$source" --arch=sm_80 "${args[@]}" \
    -o "$out/cases/$name.ptx" --metadata="$out/cases/$name.json"
  echo "$name $name.ptx $name.json $scalars $outputs $tol" >> "$out/cases/cases.txt"
done
"$build/bin/tilus-gpu-check" "$out/cases" --device emu --record > "$out/cases/record.log"

# matmul_a16wx for a16wx_bench.py: for every problem of its table, the tile
# and split-K that tilus-pack-weights picks, and one kernel file per (W,
# group, tile, split-K).
mkdir -p "$out/a16wx"
echo "# DEVICE W M N K GROUP BM BN BK SPLITK KERNEL" > "$out/a16wx/configs.txt"
python3 "$root/bench/gpu/a16wx_bench.py" --list-configs |
  while read -r dev w bits m n k g; do
    read -r _ bm _ bn _ bk _ split _ < <("$build/bin/tilus-pack-weights" \
      --bits "$bits" --k "$k" --n "$n" --group "$g" --m "$m")
    bm=${bm#BM=} bn=${bn#BN=} bk=${bk#BK=} split=${split#SPLITK=}
    split=${split:-1}
    kernel=${w}_g${g}_${bm}x${bn}x${bk}x${split}
    splitflags=()
    if [[ $split != 1 ]]; then splitflags=(-D "SPLITK=$split"); fi
    if [[ ! -f $out/a16wx/$kernel.ptx ]]; then
      "$build/bin/tilusc" "$root/examples/matmul_a16wx.tl" --arch=sm_80 \
        -D "W=$w" -D "G=$g" -D "BM=$bm" -D "BN=$bn" -D "BK=$bk" "${splitflags[@]}" \
        -o "$out/a16wx/$kernel.ptx" --metadata="$out/a16wx/$kernel.json"
    fi
    echo "$dev $w $m $n $k $g $bm $bn $bk $split $kernel" >> "$out/a16wx/configs.txt"
  done

# The f16 matmuls for hopper_bench.py: NAME KERNEL ARCH B_LAYOUT (kn: b is
# k x n; nk: b given transposed, as matmul_wgmma takes it).
mkdir -p "$out/hopper"
echo "# NAME KERNEL ARCH B_LAYOUT" > "$out/hopper/configs.txt"
hopper_kernel() {
  local name=$1 source=$2 kernel=$3 arch=$4 layout=$5
  shift 5
  "$build/bin/tilusc" "$root/examples/$source" --arch="$arch" "$@" \
    -o "$out/hopper/$name.ptx" --metadata="$out/hopper/$name.json"
  echo "$name $kernel $arch $layout" >> "$out/hopper/configs.txt"
}
hopper_kernel f16_mma_64x64x32 matmul_f16.tl matmul_f16 sm_80 kn
hopper_kernel wgmma_64x64x32_w4 matmul_wgmma.tl matmul_wgmma sm_90a nk
hopper_kernel wgmma_128x128x64_w8 matmul_wgmma.tl matmul_wgmma sm_90a nk \
  -D BM=128 -D BN=128 -D BK=64 -D SW=3 -D W=8
# The same tiles with one wgmma group left in flight across k-tiles.
hopper_kernel wgmma_async_64x64x32_w4 matmul_wgmma_async.tl matmul_wgmma_async sm_90a nk
hopper_kernel wgmma_async_128x128x64_w8 matmul_wgmma_async.tl \
  matmul_wgmma_async sm_90a nk -D BM=128 -D BN=128 -D BK=64 -D SW=3 -D W=8

# TMA + mbarrier ring into wgmma.
hopper_kernel tma_64x64x64_w4 matmul_f16_sm90a.tl matmul_f16_sm90a sm_90a nk
hopper_kernel tma_128x128x64_w8 matmul_f16_sm90a.tl matmul_f16_sm90a sm_90a nk \
  -D BM=128 -D BN=128 -D W=8
# The same ring, warp-specialised: a producer warp, consumer warpgroups.
hopper_kernel tma_ws_64x64x64_w5 matmul_f16_sm90a_ws.tl matmul_f16_sm90a_ws sm_90a nk
hopper_kernel tma_ws_128x128x64_w9 matmul_f16_sm90a_ws.tl matmul_f16_sm90a_ws \
  sm_90a nk -D BM=128 -D BN=128 -D CW=8

# The low-bit prefill matmuls for hopper_bench.py: NAME KERNEL ARCH W BM BN
# BK WG. matmul_a16wx_wgmma, matmul_a16wx_tma (its TMA + dot_async form)
# and matmul_a16wx_rega (weights dequantized in registers as wgmma's A;
# sm_90a, WG warpgroups) read weights packed for
# BN / WG columns; matmul_a16wx (mma.sync, WG 1) at the same BN x BK reads
# the same packed weights as the one-warpgroup wgmma tile.
echo "# NAME KERNEL ARCH W BM BN BK WG" > "$out/hopper/prefill.txt"
prefill_kernel() {
  local name=$1 source=$2 kernel=$3 arch=$4 w=$5 bm=$6 bn=$7 bk=$8 wg=$9
  local wgflags=()
  if [[ $kernel != matmul_a16wx ]]; then wgflags=(-D "WG=$wg"); fi
  "$build/bin/tilusc" "$root/examples/$source" --arch="$arch" -D "W=$w" \
    -D G=128 -D "BM=$bm" -D "BN=$bn" -D "BK=$bk" "${wgflags[@]}" \
    -o "$out/hopper/$name.ptx" --metadata="$out/hopper/$name.json"
  echo "$name $kernel $arch $w $bm $bn $bk $wg" >> "$out/hopper/prefill.txt"
}
prefill_kernel a16wx_wgmma_u4_128x128x64_wg2 matmul_a16wx_sm90a.tl \
  matmul_a16wx_wgmma sm_90a u4 128 128 64 2
prefill_kernel a16wx_wgmma_u4_64x128x64_wg1 matmul_a16wx_sm90a.tl \
  matmul_a16wx_wgmma sm_90a u4 64 128 64 1
prefill_kernel a16wx_tma_u4_128x128x64_wg2 matmul_a16wx_sm90a_tma.tl \
  matmul_a16wx_tma sm_90a u4 128 128 64 2
prefill_kernel a16wx_rega_u4_128x128x64_wg2 matmul_a16wx_sm90a_rega.tl \
  matmul_a16wx_rega sm_90a u4 128 128 64 2
prefill_kernel a16wx_mma_u4_64x128x64 matmul_a16wx.tl matmul_a16wx sm_80 \
  u4 64 128 64 1

cp "$root/bench/gpu/run.sh" "$root/bench/gpu/capture.sh" \
  "$root/bench/gpu/calibrate.py" "$root/bench/gpu/torch_check.py" \
  "$root/bench/gpu/a16wx_bench.py" "$root/bench/gpu/hopper_bench.py" "$out/"
tar -czf "$out.tar.gz" -C "$(dirname "$out")" "$(basename "$out")"
echo "bundle: $out ($(du -sh "$out" | cut -f1), $(du -h "$out.tar.gz" | cut -f1) packed)"
