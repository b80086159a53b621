#!/usr/bin/env python3
"""The performance model's table: every example, and matmul_a16wx at the
LLM-serving shapes, profiled on the emulator and modelled on the H100 and H200.

    model.py --build BUILD_DIR [--quick] [--markdown]

Examples run whole through `tilusc --run --profile`. matmul_a16wx runs with
the tile and split-K that selectMatmulConfig chooses for the H100
(`tilus-pack-weights`), on 8 CTAs of its grid with the full K loop
(`tilus-run --profile --sample-ctas 8`; docs/profiling.md says how the counts
are scaled), and the tail of split-K's last block is added as the model
adds it (docs/matmul.md). Printed per case: the modelled time (not measured), the
limit that binds, the % of the DRAM roofline of the launch's own compulsory
bytes, and against the f16 weight-streaming roofline: the time an f16 matmul
needs just to read its 2 * N * K weight bytes at the GPU's peak bandwidth,
over the modelled time (above 1: faster than any f16 kernel can be).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BITS = {"u4": 4, "u2": 2, "u8": 8, "f6e3m2": 6, "f4e2m1": 4}
PEAK_GBS = {"H100-SXM5": 3350, "H200": 4800}
LAUNCH_US = 5.0
LATENCY_NS = 520
EFFICIENCY = {"H100-SXM5": 0.90, "H200": 0.886}
EXAMPLES = [
    ("vector_add.tl", ["n=4194304"], []),
    ("softmax.tl", ["m=1024", "n=1024"], []),
    ("layernorm.tl", ["m=1024", "n=1024", "eps=0"], []),
    ("transpose.tl", ["m=2048", "n=2048"], []),
    ("matmul_simt.tl", ["m=256", "n=256", "k=256"], []),
    ("matmul_f16.tl", ["m=1024", "n=1024", "k=1024"], []),
    ("matmul_a16wx.tl", ["m=16", "n=4096", "k=4096"], ["-D", "BN=32", "-D", "BK=128", "-D", "BM=16"]),
]


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def examples(build, tmp):
    rows = []
    for name, shape, defines in EXAMPLES:
        out = os.path.join(tmp, name + ".json")
        run([os.path.join(build, "bin/tilusc"), os.path.join(ROOT, "examples", name), "--run",
             "--device=emu", "--no-cache", "--shape=" + ",".join(shape),
             f"--profile=json:{out}", "--gpu=h100,h200"] + defines)
        p = json.load(open(out))
        for gpu in ("H100-SXM5", "H200"):
            e = p["model"][gpu]
            rows.append((name, " ".join(shape), gpu, e["time_us"], e["bound"],
                         e["dram_roofline_pct"], p["grid"]))
    return rows


def a16wx(build, tmp, w, m, n, k):
    bits = BITS[w]
    flags = run([os.path.join(build, "bin/tilus-pack-weights"), "--bits", str(bits), "--k", str(k),
                 "--n", str(n), "--group", "128", "--m", str(m), "--gpu", "h100"]).stdout.split()
    defs = dict(f.split("=") for f in flags if "=" in f)
    bm, bn, bk = int(defs["BM"]), int(defs["BN"]), int(defs["BK"])
    split = int(defs.get("SPLITK", 1))
    ptx = os.path.join(tmp, f"{w}_{bm}x{bn}x{bk}x{split}.ptx")
    meta = ptx[:-4] + ".json"
    if not os.path.exists(ptx):
        run([os.path.join(build, "bin/tilusc"), os.path.join(ROOT, "examples/matmul_a16wx.tl"),
             "--arch=sm_80", "-D", f"W={w}", "-D", "G=128"] + [x for f in flags for x in
                                                                ([] if f == "-D" else ["-D", f])]
            + ["-o", ptx, f"--metadata={meta}"])
    smem = json.load(open(meta))["kernels"][0]["sharedBytes"]
    groups = -(-k // 128)
    out = os.path.join(tmp, "p.json")
    ctas = -(-m // bm) * (n // bn) * split
    run([os.path.join(build, "bin/tilus-run"), ptx, "--kernel", "matmul_a16wx",
         "--grid", f"{-(-m // bm)},{n // bn},{split}", "--block", "128", "--smem", str(smem),
         "--arg", f"buf:zeros:{m * k * 2}", "--arg", f"buf:zeros:{n * k * bits // 8}",
         "--arg", f"buf:zeros:{groups * n * 2}", "--arg", f"buf:zeros:{groups * n * 2}",
         "--arg", f"buf:zeros:{m * n * 2}", "--arg", f"buf:zeros:{split * m * n * 4}",
         "--arg", f"buf:zeros:{-(-m // bm) * (n // bn) * 4}", "--arg", f"i32:{m}", "--arg", f"i32:{n}",
         "--arg", f"i32:{k}", f"--profile=json:{out}", "--gpu", "h100,h200"]
        + (["--sample-ctas", "8"] if ctas > 8 else []))
    p = json.load(open(out))
    x = p["metrics"]
    rows = []
    for gpu in ("H100-SXM5", "H200"):
        e = p["model"][gpu]
        t = e["time_us"]
        if split > 1:
            # The sampled CTAs do not complete a tile's arrivals, so the
            # last block's tail is added as the runtime's model adds it
            # (tilus::estimateMatmul): two DRAM latencies or the slices'
            # bytes, in the same launch.
            tail = split * m * n * 4 / (PEAK_GBS[gpu] * 1e3 * EFFICIENCY[gpu])
            t += max(tail, 2 * LATENCY_NS * 1e-3)
        dram = x["dram__bytes_read.sum"] + x["dram__bytes_write.sum"]
        roof = 100 * dram / (PEAK_GBS[gpu] * 1e3) / t
        # The same without the launch overhead: what the kernel itself does
        # with its time (what Nsight Compute's DRAM throughput would say).
        roof_kernel = 100 * dram / (PEAK_GBS[gpu] * 1e3) / (t - LAUNCH_US)
        f16 = 2 * n * k / (PEAK_GBS[gpu] * 1e3)
        req = x["l1tex__t_requests_pipe_lsu_mem_global_op_ld.sum"]
        rows.append(dict(w=w, m=m, n=n, k=k, tile=f"{bm}x{bn}x{bk}x{split}", gpu=gpu, time=t,
                         bound=e["bound"], roof=roof, roof_kernel=roof_kernel, f16=f16 / t,
                         conflicts=x["l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_ld.sum"]
                         + x["l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_st.sum"]
                         + x["l1tex__data_bank_conflicts_pipe_lsu_mem_shared_op_ldgsts.sum"],
                         spr=x["l1tex__t_sectors_pipe_lsu_mem_global_op_ld.sum"] / max(1, req),
                         regs=p["resources"]["registers_per_thread"],
                         limits=e["limits_us"]))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--build", required=True)
    ap.add_argument("--quick", action="store_true", help="u4 only, no examples")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if not args.quick:
            print("Examples (whole launches on the emulator; modelled, not measured):\n")
            print("| example | shape | GPU | time µs | bound | % DRAM roofline |")
            print("| --- | --- | --- | --- | --- | --- |")
            for name, shape, gpu, t, bound, roof, grid in examples(args.build, tmp):
                print(f"| {name} | {shape} | {gpu} | {t:.1f} | {bound} | {roof:.1f} |")
            print()
        print("matmul_a16wx, g128, f16 activations, the model's tile for the H100 "
              "(BMxBNxBKxSPLITK); modelled, not measured:\n")
        print("| W | M | N | K | tile | regs | GPU | time µs | bound | % DRAM roofline "
              "| % without launch | x f16 roofline | sectors/request | bank conflicts |")
        print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- "
              "| --- |")
        ws = ["u4"] if args.quick else list(BITS)
        for w in ws:
            for n, k in ((8192, 8192), (28672, 8192), (8192, 28672)):
                for m in (1, 16, 64):
                    for r in a16wx(args.build, tmp, w, m, n, k):
                        print(f"| {r['w']} | {r['m']} | {r['n']} | {r['k']} | {r['tile']} | "
                              f"{r['regs']} | {r['gpu']} | {r['time']:.1f} | {r['bound']} | "
                              f"{r['roof']:.1f} | {r['roof_kernel']:.1f} | {r['f16']:.2f} | {r['spr']:.1f} | "
                              f"{r['conflicts']} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
