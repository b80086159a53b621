#!/usr/bin/env python3
"""Compile time of matmul_a16wx variants, each in a fresh process.

    compile_bench.py --build BUILD_DIR [--repeat N] [--cuda FILE.cu]

Compiles the ten variants of examples/matmul_a16wx.tl that the compile-time
goal names (u4 weights, group 128, f16 and bf16 activations, five tiles) to
PTX, each in a new `tilusc` process, and prints the CPU time (user + system)
of each, the best of --repeat runs. Then the phase split of one variant
(`tilusc --mlir-timing`), and `tilusc --version` alone (process start).
With --cuda and nvcc on PATH (or in /usr/local/cuda/bin), compiles that CUDA
file the same way, once per tile (-DBM= -DBN= -DBK= -DSPLITK=, e.g. the FP16 x
INT4 matmul test/lit/emu/nvcc/Inputs/w4a16.cu), to PTX and to a cubin, for
comparison.

A benchmark, not a test: it prints numbers and fails only when a compile
fails.
"""
import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TILES = [(16, 128, 64, 4), (16, 256, 32, 2), (16, 256, 64, 4), (32, 128, 64, 1),
         (64, 128, 64, 1)]
TYPES = ["f16", "bf16"]


def cpu_of(cmd):
    """CPU seconds (user + system) of one child process running cmd."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def best(cmd, repeat):
    return min(cpu_of(cmd) for _ in range(repeat))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--cuda", help="a CUDA file to compile once per tile with nvcc")
    args = ap.parse_args()
    tilusc = os.path.join(args.build, "bin", "tilusc")
    example = os.path.join(ROOT, "examples", "matmul_a16wx.tl")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "k.ptx")
        print("tilusc, matmul_a16wx to PTX (sm_80), one fresh process per variant, "
              f"CPU seconds (best of {args.repeat}):")
        total = 0.0
        for t in TYPES:
            for bm, bn, bk, split in TILES:
                cmd = [tilusc, example, "-D", "W=u4", "-D", "G=128", "-D", f"T={t}",
                       "-D", f"BM={bm}", "-D", f"BN={bn}", "-D", f"BK={bk}",
                       "-D", f"SPLITK={split}", "--arch=sm_80", "-o", out]
                s = best(cmd, args.repeat)
                total += s
                print(f"  {t:5} {bm}x{bn}x{bk}x{split:<3} {s:.3f} s")
        print(f"  per variant: {total / (len(TYPES) * len(TILES)):.3f} s")
        print(f"tilusc --version (process start): "
              f"{best([tilusc, '--version'], args.repeat):.3f} s")
        timing = subprocess.run(
            [tilusc, example, "-D", "W=u4", "-D", "BM=16", "-D", "BN=128", "-D", "BK=64",
             "-o", out, "--mlir-timing"], check=True, capture_output=True, text=True).stderr
        print("phases of one variant (tilusc --mlir-timing, wall seconds):")
        for line in timing.splitlines():
            m = re.match(r"\s+([0-9.]+) \(\s*[0-9.]+%\)(\s+)(\S.*)", line)
            if m and not m.group(3).startswith(("Rest", "Total")):
                name = " " * (len(m.group(2)) - 2) + m.group(3)
                print(f"  {name:34} {float(m.group(1)):.4f}")
        if args.cuda:
            nvcc = shutil.which("nvcc") or "/usr/local/cuda/bin/nvcc"
            if not os.path.exists(nvcc):
                print("nvcc: not found, comparison skipped")
                return 0
            for kind, flag in (("PTX", "-ptx"), ("cubin", "-cubin")):
                total = 0.0
                for bm, bn, bk, split in TILES:
                    cmd = [nvcc, "-arch=sm_80", flag, args.cuda, "-o",
                           os.path.join(tmp, "k." + kind), f"-DBM={bm}", f"-DBN={bn}",
                           f"-DBK={bk}", f"-DSPLITK={split}"]
                    total += best(cmd, 1)
                print(f"nvcc {os.path.relpath(args.cuda, ROOT)} to {kind}, one process per "
                      f"tile: {total / len(TILES):.3f} s per variant")
    return 0


if __name__ == "__main__":
    sys.exit(main())
