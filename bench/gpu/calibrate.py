#!/usr/bin/env python3
"""Sets the emulator's profile beside what a GPU measured.

    calibrate.py RESULTS_DIR (PROFILE_JSON | --gpu-check BIN) [--gpu H200] [--check]

RESULTS_DIR is a capture (bench/gpu/results/<gpu>-<date>/): `ncu.csv`
(Nsight Compute's --csv output over the cases, in case order) and
`times.txt` (tilus-gpu-check --times: measured median microseconds).
PROFILE_JSON is `tilus-gpu-check CASES --device emu --profile FILE` run on
the capture's own cases (RESULTS_DIR/cases), so both sides ran the same PTX
on the same inputs; with --gpu-check BIN this script makes it, running BIN
on a copy of the cases (inputs from the same seed as on the GPU).

Prints, per case, each counter the emulator and the GPU both name (exact
counts, compared exactly), DRAM bytes and registers (compared, not
required to match: see docs/profiling.md), and the modelled against the
measured time. With --check, exits 1 when an exact counter differs or a
modelled time is off by more than --tolerance (default 1.5x either way).
"""
import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile

# Counters the emulator counts by the hardware's rules: they must match.
EXACT = [
    "l1tex__t_requests_pipe_lsu_mem_global_op_ld.sum",
    "l1tex__t_sectors_pipe_lsu_mem_global_op_ld.sum",
    "l1tex__t_requests_pipe_lsu_mem_global_op_st.sum",
    "l1tex__t_sectors_pipe_lsu_mem_global_op_st.sum",
    "l1tex__data_pipe_lsu_wavefronts_mem_shared_op_ld.sum",
    "l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_ld.sum",
    "l1tex__data_pipe_lsu_wavefronts_mem_shared_op_st.sum",
    "l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_st.sum",
]
# Compared and shown; the emulator's figure is a bound or an estimate.
SHOWN = ["dram__bytes_read.sum", "dram__bytes_write.sum"]


def read_ncu(path):
    """Launches in order: (kernel, grid, {metric: value})."""
    with open(path) as f:
        rows = list(csv.reader(line for line in f if line.startswith('"')))
    if not rows:
        return []
    hdr = rows[0]
    col = {name: hdr.index(name) for name in
           ("ID", "Kernel Name", "Grid Size", "Metric Name", "Metric Value")}
    launches = []
    for r in rows[1:]:
        if not launches or launches[-1][0] != r[col["ID"]]:
            grid = tuple(int(x) for x in r[col["Grid Size"]].strip("()").split(","))
            launches.append((r[col["ID"]], r[col["Kernel Name"]], grid, {}))
        value = r[col["Metric Value"]].replace(",", "")
        try:
            launches[-1][3][r[col["Metric Name"]]] = float(value)
        except ValueError:
            pass
    return [(k, g, m) for _, k, g, m in launches]


def read_times(path):
    times = {}
    if os.path.exists(path):
        for line in open(path):
            if line.strip() and not line.startswith("#"):
                name, us = line.split()
                times[name] = float(us)
    return times


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results")
    ap.add_argument("profile", nargs="?")
    ap.add_argument("--gpu-check", help="tilus-gpu-check, to make the profile")
    ap.add_argument("--gpu", default="H200")
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--tolerance", type=float, default=1.5)
    args = ap.parse_args()

    if args.gpu_check:
        with tempfile.TemporaryDirectory() as tmp:
            cases = os.path.join(tmp, "cases")
            shutil.copytree(os.path.join(args.results, "cases"), cases)
            profile = os.path.join(tmp, "profile.json")
            run = subprocess.run([args.gpu_check, cases, "--device", "emu", "--record",
                                  "--profile", profile], capture_output=True, text=True)
            if run.returncode:
                sys.exit(f"calibrate.py: {args.gpu_check} failed:\n{run.stdout}{run.stderr}")
            profiles = json.load(open(profile))
    elif args.profile:
        profiles = json.load(open(args.profile))
    else:
        ap.error("give PROFILE_JSON or --gpu-check")
    launches = read_ncu(os.path.join(args.results, "ncu.csv"))
    times = read_times(os.path.join(args.results, "times.txt"))
    mismatches = 0
    at = 0
    rows = []
    for name, prof in profiles.items():
        grid = tuple(prof["grid"])
        # The first launch of this kernel and grid at or after the last match:
        # the case's checked launch (its timed repeats follow it).
        gpu = None
        while at < len(launches):
            kernel, g, metrics = launches[at]
            at += 1
            if kernel == prof["kernel"] and g == grid:
                gpu = metrics
                while (at < len(launches) and launches[at][0] == kernel and
                       launches[at][1] == grid):
                    at += 1
                break
        print(f"{name}  ({prof['kernel']}, grid {list(grid)}, block {prof['block']})")
        if gpu is None:
            print("  no Nsight Compute launch recorded for it")
        else:
            for metric in EXACT + SHOWN:
                emu = prof["metrics"].get(metric)
                hw = gpu.get(metric)
                if emu is None or hw is None:
                    continue
                same = int(emu) == int(hw)
                exact = metric in EXACT
                if exact and not same:
                    mismatches += 1
                mark = "" if same else ("  DIFFERS" if exact else
                                        f"  (emulator/GPU {emu / hw:.2f})" if hw else
                                        "  (GPU 0)")
                print(f"  {metric:58} emu {int(emu):>12}  gpu {int(hw):>12}{mark}")
            regs = gpu.get("launch__registers_per_thread")
            if regs is not None:
                est = " (estimated)" if prof["resources"]["registers_estimated"] else ""
                print(f"  {'registers per thread':58} emu {prof['resources']['registers_per_thread']:>12}"
                      f"  gpu {int(regs):>12}{est}")
        model = prof["model"].get(args.gpu) or next(
            (v for k, v in prof["model"].items() if args.gpu.lower() in k.lower()), None)
        measured = times.get(name)
        if model is not None:
            line = f"  time on {args.gpu}: modelled {model['time_us']:.1f} us (bound: {model['bound']})"
            if measured is not None:
                line += f", measured {measured:.1f} us, modelled/measured {model['time_us'] / measured:.2f}"
                rows.append((name, model["time_us"], measured, model["bound"]))
            print(line)
    if rows:
        print(f"\n{'case':20} {'modelled us':>12} {'measured us':>12} {'ratio':>6}  bound")
        for name, mod, mea, bound in rows:
            print(f"{name:20} {mod:12.1f} {mea:12.1f} {mod / mea:6.2f}  {bound}")
    off = [name for name, mod, mea, _ in rows
           if not 1 / args.tolerance <= mod / mea <= args.tolerance]
    print(f"\n{mismatches} exact counter(s) differ from the GPU")
    print(f"{len(off)} of {len(rows)} modelled time(s) off by more than "
          f"{args.tolerance}x{': ' + ', '.join(off) if off else ''}")
    return 1 if args.check and (mismatches or off) else 0


if __name__ == "__main__":
    sys.exit(main())
