"""Run examples/matmul_a16wx.tl on the emulator and check every element of c
against an independent numpy reference.

  a16wx_check.py WORKDIR W=TYPE G=GROUP M,N,K [T=f16|bf16] [ZP=1] [TILE=BMxBNxBK]
                 [KERNEL=sm90a|sm90a-tma|sm90a-rega [WG=1|2]] [PROFILE=GPU,...]
  a16wx_check.py WORKDIR --matrix types|groups|full|sm90a|sm90a-tma|sm90a-rega

KERNEL=sm90a runs examples/matmul_a16wx_sm90a.tl (the wgmma prefill kernel,
compiled for --arch=sm_90a) instead, under tilus-run --racecheck stop; it
needs TILE and reads the same packed weights. With WG=2 (two warpgroups)
the weights are packed for BN / 2 columns and each warpgroup dequantizes
one of the block's two n-tiles. KERNEL=sm90a-tma runs
examples/matmul_a16wx_sm90a_tma.tl (the same kernel with TMA copies and
dot_async) the same way, and KERNEL=sm90a-rega
examples/matmul_a16wx_sm90a_rega.tl (the weights dequantized in registers as
wgmma's A operand; packed for BN / WG = 64 columns). PROFILE=h100 also prints the emulator's
profile of the launch (tilus-run --profile --gpu h100: exact counters,
modelled time).

The weights are random codes of TYPE (every finite code of a float type that
T can hold), packed by tilus-pack-weights (the host helper, which also picks
the tile from the configuration table unless TILE is given); activations,
scales and zero points are random. The reference dequantizes as the kernel
is specified to: w = round_T(round_T(value - zero) * scale) (the zero term
only with ZP=1), then c = a @ w in float64; the kernel accumulates in f32 and
rounds c to T once, which bounds the error by half an ulp of T plus the f32
summation error. Prints one OK/FAIL line per case; exits 1 on any failure.
"""
import json
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cast_check import bits_of, dtype_table  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
EXAMPLES = os.path.join(HERE, "..", "..", "..", "..", "examples")
# KERNEL= value -> (example file, kernel name, extra tilusc flags)
KERNELS = {
    "mma": ("matmul_a16wx.tl", "matmul_a16wx", []),
    "sm90a": ("matmul_a16wx_sm90a.tl", "matmul_a16wx_wgmma",
              ["--arch=sm_90a"]),
    "sm90a-tma": ("matmul_a16wx_sm90a_tma.tl", "matmul_a16wx_tma",
                  ["--arch=sm_90a"]),
    "sm90a-rega": ("matmul_a16wx_sm90a_rega.tl", "matmul_a16wx_rega",
                   ["--arch=sm_90a"]),
}
MAX_FINITE = {"f16": 65504.0, "bf16": 3.3e38}


def round_bf16(x):
    """float64 -> nearest bf16 (ties to even), as float64, and its bits."""
    f = np.asarray(x, dtype=np.float32)
    u = f.view(np.uint32).astype(np.uint64)
    u = ((u + 0x7FFF + ((u >> 16) & 1)) >> 16).astype(np.uint16)
    return (u.astype(np.uint32) << 16).view(np.float32).astype(np.float64), u


def to_t(x, t):
    """Rounds float64 values to T: (values as float64, raw 16-bit codes)."""
    if t == "f16":
        h = np.asarray(x, dtype=np.float64).astype(np.float16)
        return h.astype(np.float64), h.view(np.uint16)
    return round_bf16(x)


def weight_values(w, t):
    """code -> value for every code of W that is finite and finite in T."""
    values = {}
    for code, text in dtype_table(w).items():
        v = float(text)
        if np.isfinite(v) and abs(v) <= MAX_FINITE[t]:
            values[code] = v
    return values


def run_case(work, w, group, m, n, k, t="f16", zp=False, tile=None,
             seed=0, kernel_kind="mma", profile=None, wg=1):
    example, kernel_name, arch_flags = KERNELS[kernel_kind]
    if kernel_kind != "mma" and not tile:
        sys.exit(f"a16wx_check: KERNEL={kernel_kind} needs TILE=BMxBNxBK")
    bits = bits_of(w)
    rng = np.random.default_rng(seed)
    os.makedirs(work, exist_ok=True)
    table = weight_values(w, t)
    codes_list = np.array(sorted(table), dtype=np.uint8)
    codes = rng.choice(codes_list, size=(k, n))
    values = np.vectorize(table.get)(codes).astype(np.float64)
    codes_path = os.path.join(work, "codes.bin")
    packed_path = os.path.join(work, "b.bin")
    codes.astype(np.uint8).tofile(codes_path)
    pack_cmd = ["tilus-pack-weights", "--bits", str(bits), "--k", str(k),
                "--n", str(n), "--group", str(group), "--m", str(m),
                codes_path, packed_path]
    if tile:
        if wg > 1:  # the packing's tile is one warpgroup's BN / WG columns
            bm_, bn_, bk_ = tile.split("x")[:3]
            tile = f"{bm_}x{int(bn_) // wg}x{bk_}"
        pack_cmd += ["--tile", tile]
    flags = subprocess.run(pack_cmd, check=True, capture_output=True,
                           text=True).stdout.split()
    ptx = os.path.join(work, "kernel.ptx")
    meta = os.path.join(work, "kernel.json")
    if kernel_kind != "mma":
        # No split-K there; with WG warpgroups the block is WG packed
        # n-tiles wide.
        flags = [x for d, v in zip(flags[::2], flags[1::2])
                 if not v.startswith("SPLITK=") for x in (d, v)]
        flags = [f"BN={int(f[3:]) * wg}" if f.startswith("BN=") else f
                 for f in flags] + ["-D", f"WG={wg}"]
    subprocess.run(["tilusc", os.path.join(EXAMPLES, example), "-o", ptx,
                    f"--metadata={meta}", "-D", f"W={w}", "-D", f"G={group}",
                    "-D", f"T={t}", "-D", f"ZP={int(zp)}"] + flags +
                   arch_flags, check=True)
    kernels = {kn["name"]: kn for kn in json.load(open(meta))["kernels"]}
    kernel = kernels[kernel_name]
    split = 1
    for f in flags:
        if f.startswith("SPLITK="):
            split = int(f.split("=")[1])

    bm = int(next(f for f in flags if f.startswith("BM=")).split("=")[1])
    bn = int(next(f for f in flags if f.startswith("BN=")).split("=")[1])
    tiles = -(-m // bm) * (n // bn)
    groups = -(-k // group)
    largest = max(abs(v) for v in table.values()) or 1.0
    a, a_bits = to_t(rng.uniform(-1.0, 1.0, (m, k)), t)
    scales, s_bits = to_t(rng.uniform(0.5, 1.5, (groups, n)) / largest, t)
    if zp:
        zeros, z_bits = to_t(rng.uniform(0, 2 ** bits - 1, (groups, n)), t)
    else:
        zeros, z_bits = to_t(rng.uniform(-1, 1, (groups, n)), t)
    files = {"a": a_bits, "scales": s_bits, "zeros": z_bits}
    args = []
    for p in kernel["params"]:
        name = p["name"]
        if name in files:
            path = os.path.join(work, name + ".bin")
            files[name].tofile(path)
            args += ["--arg", f"buf:{path}"]
        elif name == "b":
            args += ["--arg", f"buf:{packed_path}"]
        elif name == "c":
            args += ["--arg", f"buf:zeros:{2 * m * n}"]
        elif name == "partial":
            # With split-K: the slices' f32 products.
            args += ["--arg", f"buf:zeros:{4 * split * m * n}"]
        elif name == "arrivals":
            args += ["--arg", f"buf:zeros:{4 * tiles}"]
        else:
            args += ["--arg", f"i32:{dict(m=m, n=n, k=k)[name]}"]
    out = os.path.join(work, "c.out")

    grid = [int(eval(e.replace("/", "//"), {"cdiv": lambda x, y: -(-x // y)},
                     dict(m=m, n=n, k=k)))
            for e in kernel["grid"]]
    names = [p["name"] for p in kernel["params"]]
    arrivals = os.path.join(work, "arrivals.out")
    options = ["--dump", f"{names.index('c')}:{out}"]
    if kernel_kind != "mma":  # a shared-memory hazard fails the launch
        options += ["--racecheck", "stop"]
    if profile:
        options += ["--profile", "--gpu", profile]
    if "arrivals" in names:
        options += ["--dump", f"{names.index('arrivals')}:{arrivals}"]
    if kernel.get("tensorMaps"):  # tilus-run builds them from the metadata
        options += ["--metadata", meta]
    subprocess.run(["tilus-run", ptx, "--kernel", kernel["name"],
                    "--grid", ",".join(map(str, grid)),
                    "--block", str(kernel["numThreads"]),
                    "--smem", str(kernel["sharedBytes"])] + args + options,
                   check=True)
    # The last block of each tile leaves its arrival count at 0 again.
    if "arrivals" in names:
        left = np.fromfile(arrivals, dtype=np.int32)
        if left.any():
            print(f"FAIL arrivals not reset: {np.count_nonzero(left)} of "
                  f"{left.size}")
            return False

    # The reference, from the codes' values and the specification.
    row_group = np.arange(k) // group
    s_full, z_full = scales[row_group], zeros[row_group]
    wt, _ = to_t(values, t)
    if zp:
        wt, _ = to_t(wt - z_full, t)
    wq, _ = to_t(wt * s_full, t)
    want = a @ wq
    raw = np.fromfile(out, dtype=np.uint16).reshape(m, n)
    if t == "f16":
        got = raw.view(np.float16).astype(np.float64)
        half_ulp = 2.0 ** -11
    else:
        got = (raw.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
        half_ulp = 2.0 ** -8
    bound = (half_ulp * np.abs(want) + k * 2.0 ** -23 * (np.abs(a) @ np.abs(wq))
             + 2.0 ** -24)
    err = np.abs(got - want)
    bad = np.argwhere(~(err <= bound))
    label = (f"{kernel_name} " if kernel_kind != "mma" else "") + \
        (f"W={w} G={group} T={t} ZP={int(zp)} M={m} N={n} K={k} "
             f"{' '.join(flags[1::2])}")
    if bad.size:
        i = tuple(bad[0])
        print(f"FAIL {label}: {len(bad)} of {got.size} elements differ; first "
              f"c{list(i)} = {got[i]!r}, expected {want[i]!r} "
              f"(bound {bound[i]:.3g})")
        return False
    print(f"OK {label}: all {got.size} elements within bound")
    return True


def weight_types():
    names = subprocess.run(["tilus-dtype", "--list"], check=True,
                           capture_output=True, text=True).stdout.split()
    return [x for x in names if x not in ("bool", "i1", "f16", "bf16", "f32")
            and bits_of(x) <= 8]


def matrix(kind):
    """(W, G, M, N, K, T, ZP) cases of a named matrix."""
    cases = []
    if kind == "types":  # every weight type at one shape
        cases += [(w, 128, 3, 256, 256, "f16", False) for w in weight_types()]
    elif kind == "groups":  # u4 and f4e2m1 across groups and M
        for w in ("u4", "f4e2m1"):
            for g in (32, 64, 128):
                for m in (1, 3, 16, 64):
                    cases.append((w, g, m, 128, 256, "f16", False))
    elif kind == "sm90a":  # matmul_a16wx_wgmma: every weight type
        for w in weight_types():
            cases.append((w, 128, 130, 256, 256, "f16", False))
    elif kind == "sm90a-tma":  # matmul_a16wx_tma: the even widths (BK = 64)
        for w in weight_types():
            if bits_of(w) % 2 == 0:
                cases.append((w, 128, 130, 256, 256, "f16", False))
    elif kind == "sm90a-rega":  # matmul_a16wx_rega: widths 4 and 8
        for w in weight_types():
            if bits_of(w) % 4 == 0:
                cases.append((w, 128, 130, 256, 256, "f16", False))
    elif kind == "full":
        for w in weight_types():
            for g in (32, 64, 128):
                for m in (1, 3, 16, 17, 64):
                    for t in ("f16", "bf16"):
                        zp = w[0] == "u"
                        cases.append((w, g, m, 512, 256, t, zp))
    return cases


def main():
    work = sys.argv[1]
    if sys.argv[2] == "--matrix":
        ok = True
        kind = sys.argv[3]
        for w, g, m, n, k, t, zp in matrix(kind):
            extra = {}
            if kind == "sm90a-rega":
                # 64 packed columns per warpgroup (its wgmma m64 rows) at
                # BK = 64: rows of VEC = 4 bits bytes, whole 16-byte TMA
                # rows for 4 | bits only.
                extra = dict(tile="128x128x64", wg=2, kernel_kind=kind)
            elif kind in ("sm90a", "sm90a-tma"):
                # Packed tiles that give every thread whole 16-byte loads:
                # BN / WG = 64 at BK = 64 for 4 | bits (two warpgroups
                # splitting M), 128 at BK = 64 for 2 | bits (two splitting
                # N), 128 at BK = 128 for odd widths (one warpgroup; two
                # would need more shared memory than a block gets at 7 bits).
                bits = bits_of(w)
                tile, wg = (("128x128x64", 2) if bits % 4 == 0 else
                            ("64x256x64", 2) if bits % 2 == 0 else
                            ("64x128x128", 1))
                extra = dict(tile=tile, wg=wg, kernel_kind=kind)
            try:
                ok &= run_case(os.path.join(work, "case"), w, g, m, n, k, t,
                               zp, **extra)
            except (subprocess.CalledProcessError, OSError) as e:
                print(f"FAIL W={w} G={g} T={t} M={m}: {e}")
                ok = False
        sys.exit(0 if ok else 1)
    opts = dict(item.split("=", 1) for item in sys.argv[2:] if "=" in item)
    m, n, k = (int(v) for v in sys.argv[-1].split(",")) if "," in sys.argv[-1] \
        else (int(opts["M"]), int(opts["N"]), int(opts["K"]))
    ok = run_case(work, opts["W"], int(opts["G"]), m, n, k,
                  opts.get("T", "f16"), opts.get("ZP", "0") == "1",
                  opts.get("TILE"), kernel_kind=opts.get("KERNEL", "mma"),
                  profile=opts.get("PROFILE"), wg=int(opts.get("WG", "1")))
    sys.exit(0 if ok else 1)


main()
