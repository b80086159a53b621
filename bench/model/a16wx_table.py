#!/usr/bin/env python3
"""Per-k-step profiles of matmul_a16wx's tiles, for the model-driven tile table.

    a16wx_table.py --build BUILD_DIR [--out runtime/core/MatmulModelTable.inc]
                   [--bits 1,2,...] [--check BITS,BM,BN,BK]

For every weight width (u1..u8 stand for their width) and every tile that
checkMatmulConfig allows, runs one CTA of examples/matmul_a16wx.tl on the
emulator with --profile at K = 4 and 8 k-steps. A CTA's counts and its
critical path are linear in its k-steps (the loop body is the same every
step), so the two runs give a fixed part and a part per k-step; the runtime
composes a launch's counters from them (tilus::estimateMatmul, docs/matmul.md)
and the model turns those into time. Writes the table as C++.

--check re-profiles one entry and compares it with the committed table:
it fails when the kernel has changed since the table was made.
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GPUS = ["A100-SXM4-80GB", "H100-SXM5", "H200", "L40S", "RTX-4090"]
CLOCK = {"A100-SXM4-80GB": 1.410, "H100-SXM5": 1.980, "H200": 1.980,
         "L40S": 2.520, "RTX-4090": 2.520}
FIELDS = ["l2_sectors", "shared_wavefronts", "mma_flops", "fp32_inst", "instructions"]


def legal(bits, bm, bn, bk):
    return (bk * bn * bits) % 16384 == 0


def profile(build, tmp, bits, bm, bn, bk, steps):
    name = f"u{bits}_{bm}x{bn}x{bk}"
    ptx = os.path.join(tmp, name + ".ptx")
    meta = os.path.join(tmp, name + ".json")
    if not os.path.exists(ptx):
        subprocess.run([os.path.join(build, "bin/tilusc"),
                        os.path.join(ROOT, "examples/matmul_a16wx.tl"), "--arch=sm_80",
                        "-D", f"W=u{bits}", "-D", "G=128", "-D", f"BM={bm}", "-D", f"BN={bn}",
                        "-D", f"BK={bk}", "-o", ptx, f"--metadata={meta}"], check=True,
                       stderr=subprocess.DEVNULL)
    smem = json.load(open(meta))["kernels"][0]["sharedBytes"]
    m, n, k = bm, bn, steps * bk
    groups = -(-k // 128)
    out = os.path.join(tmp, f"{name}_{steps}.json")
    args = [os.path.join(build, "bin/tilus-run"), ptx, "--kernel", "matmul_a16wx",
            "--grid", "1,1,1", "--block", "128", "--smem", str(smem),
            "--arg", f"buf:zeros:{m * k * 2}", "--arg", f"buf:zeros:{n * k * bits // 8}",
            "--arg", f"buf:zeros:{groups * n * 2}", "--arg", f"buf:zeros:{groups * n * 2}",
            "--arg", f"buf:zeros:{m * n * 2}", "--arg", f"buf:zeros:{m * n * 4}",
            "--arg", f"buf:zeros:{-(-m // bm) * (n // bn) * 4}", "--arg", f"i32:{m}", "--arg", f"i32:{n}",
            "--arg", f"i32:{k}", f"--profile=json:{out}"]
    subprocess.run(args, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    p = json.load(open(out))
    x = p["metrics"]
    values = {
        "l2_sectors": x["l1tex__t_sectors_pipe_lsu_mem_global_op_ld.sum"]
        + x["l1tex__t_sectors_pipe_lsu_mem_global_op_st.sum"]
        + x["l1tex__t_sectors_pipe_lsu_mem_global_op_atom.sum"],
        "shared_wavefronts": x["l1tex__data_pipe_lsu_wavefronts_mem_shared_op_ld.sum"]
        + x["l1tex__data_pipe_lsu_wavefronts_mem_shared_op_st.sum"]
        + x["l1tex__data_pipe_lsu_wavefronts_mem_shared_op_ldgsts.sum"],
        "mma_flops": x["ptx__mma_flops.sum"],
        "fp32_inst": x["ptx__inst_executed_fp32.sum"],
        "instructions": x["ptx__inst_executed.sum"],
    }
    # One CTA, one wave: the latency limit is its critical path.
    # -1: the tile does not fit that GPU (registers or shared memory).
    path = [p["model"][g]["limits_us"]["latency"] * CLOCK[g] * 1e3
            if "latency" in p["model"][g].get("limits_us", {}) else -1 for g in GPUS]
    return values, path, p["resources"]["registers_per_thread"], smem


def entry(build, tmp, bits, bm, bn, bk):
    v4, p4, regs, smem = profile(build, tmp, bits, bm, bn, bk, 4)
    v8, p8, _, _ = profile(build, tmp, bits, bm, bn, bk, 8)
    per = {f: (v8[f] - v4[f]) / 4 for f in FIELDS}
    fixed = {f: v4[f] - 4 * per[f] for f in FIELDS}
    pper = [(b - a) / 4 if a >= 0 else -1 for a, b in zip(p4, p8)]
    pfixed = [a - 4 * d if a >= 0 else -1 for a, d in zip(p4, pper)]
    return dict(bits=bits, bm=bm, bn=bn, bk=bk, regs=regs, smem=smem,
                fixed=[fixed[f] for f in FIELDS], per=[per[f] for f in FIELDS],
                pfixed=pfixed, pper=pper)


def fmt(values):
    return "{" + ", ".join(f"{v:.6g}" for v in values) + "}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--out", default=os.path.join(ROOT, "runtime/core/MatmulModelTable.inc"))
    ap.add_argument("--bits", default="1,2,3,4,5,6,7,8")
    ap.add_argument("--check")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.check:
            bits, bm, bn, bk = (int(v) for v in args.check.split(","))
            e = entry(args.build, tmp, bits, bm, bn, bk)
            line = (f"  {{{bits}, {bm}, {bn}, {bk}, {e['regs']}, {e['smem']}, "
                    f"{fmt(e['fixed'])}, {fmt(e['per'])}, {fmt(e['pfixed'])}, {fmt(e['pper'])}}},")
            table = open(args.out).read()
            if line in table:
                print(f"entry {args.check}: matches the committed table")
                return 0
            ours = [l for l in table.splitlines() if l.startswith(f"  {{{bits}, {bm}, {bn}, {bk},")]
            print(f"entry {args.check}: differs from the committed table "
                  f"(regenerate it: bench/model/a16wx_table.py)\n  now:       {line}\n"
                  f"  committed: {ours[0] if ours else '(none)'}")
            return 1
        rows = []
        for bits in (int(b) for b in args.bits.split(",")):
            for bm in (16, 32, 64):
                for bn in (32, 64, 128, 256):
                    for bk in (16, 32, 64, 128):
                        if legal(bits, bm, bn, bk):
                            try:
                                e = entry(args.build, tmp, bits, bm, bn, bk)
                            except subprocess.CalledProcessError as err:
                                print(f"u{bits} {bm}x{bn}x{bk}: left out ({err.cmd[0]} "
                                      f"failed)", file=sys.stderr)
                                continue
                            rows.append(e)
                            print(f"u{bits} {bm}x{bn}x{bk}: regs {e['regs']}, "
                                  f"{e['per'][4]:.0f} instructions and "
                                  f"{e['pper'][1]:.0f} H100 cycles per k-step", file=sys.stderr)
    with open(args.out + ".tmp", "w") as f:
        f.write("// Generated by bench/model/a16wx_table.py from examples/matmul_a16wx.tl;\n"
                "// do not edit. Per tile: bits, BM, BN, BK, registers (ptxas), shared\n"
                "// bytes; one CTA's counts (l2 sectors, shared wavefronts, mma flops, fp32\n"
                "// and all instructions) fixed and per k-step; its critical path in cycles\n"
                "// on each GPU of gpuSpecs(), fixed and per k-step.\n")
        for e in rows:
            f.write(f"  {{{e['bits']}, {e['bm']}, {e['bn']}, {e['bk']}, {e['regs']}, {e['smem']}, "
                    f"{fmt(e['fixed'])}, {fmt(e['per'])}, {fmt(e['pfixed'])}, {fmt(e['pper'])}}},\n")
    os.replace(args.out + ".tmp", args.out)
    print(f"{len(rows)} tiles written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
