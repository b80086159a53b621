#!/usr/bin/env bash
# The calibration capture, on a GPU machine: capture.sh OUT_DIR
#
# Run in a bundle (make-bundle.sh) after run.sh has built it. Writes what
# the model is checked against, to be committed as
# bench/gpu/results/<gpu>-<date>/:
#   cases/    the PTX, metadata and case list that ran (inputs come from a
#             fixed seed, so the emulator can run the same launches)
#   times.txt measured median times, CUDA events, L2 flushed
#   ncu.csv   Nsight Compute's counters of each launch (when ncu is found)
#   gpu.txt   the GPU, its clocks and driver
# bench/gpu/calibrate.py and test/lit/runtime/calibration.test compare the
# emulator's counters and the model's times with them.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
out=${1:?usage: capture.sh OUT_DIR}
check=$here/build/bin/tilus-gpu-check
[[ -x $check ]] || { echo "capture.sh: run run.sh first (no $check)" >&2; exit 1; }
mkdir -p "$out/cases"
cp "$here"/cases/*.ptx "$here"/cases/*.json "$here"/cases/cases.txt "$out/cases/"
nvidia-smi --query-gpu=name,clocks.max.sm,clocks.max.mem,memory.total,driver_version \
  --format=csv > "$out/gpu.txt" 2>&1 || true
# Inputs from the seed: the same bytes the emulator generates.
work=$(mktemp -d)
cp -r "$here/cases" "$work/cases"
"$check" "$work/cases" --device emu --record > /dev/null
"$check" "$work/cases" --device cuda --times "$out/times.txt" | tee "$out/gpucheck.log"
ncu=$(command -v ncu || ls /usr/local/cuda*/bin/ncu 2> /dev/null | head -1 || true)
if [[ -n $ncu ]]; then
  metrics=gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum
  for op in ld st; do
    metrics+=,l1tex__t_requests_pipe_lsu_mem_global_op_$op.sum
    metrics+=,l1tex__t_sectors_pipe_lsu_mem_global_op_$op.sum
    metrics+=,l1tex__data_pipe_lsu_wavefronts_mem_shared_op_$op.sum
    metrics+=,l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_$op.sum
  done
  metrics+=,launch__registers_per_thread,launch__waves_per_multiprocessor
  "$ncu" --csv --metrics "$metrics" "$check" "$work/cases" --device cuda --repeat 1 \
    2> "$out/ncu.log" | grep '^"' > "$out/ncu.csv"
else
  echo "capture.sh: no ncu: counters not captured" | tee "$out/ncu.log"
fi
rm -rf "$work"
echo "capture: $out"
