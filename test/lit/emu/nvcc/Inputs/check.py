"""Runs one kernel of this folder's CUDA sources (compiled to PTX by nvcc)
through tilus-run on random inputs, never zeros, and compares every output
element with a numpy reference.

usage: check.py NAME TILUS_RUN PTX WORKDIR [TILUS_RUN_OPTION ...]
Prints 'OK: NAME' or 'FAIL: ...' (exit status 1).
"""
import os
import re
import subprocess
import sys

import numpy as np

name, tool, ptx, work = sys.argv[1:5]
extra = sys.argv[5:]  # more tilus-run options
rng = np.random.default_rng(sum(map(ord, name)))
os.makedirs(work, exist_ok=True)


def nonzero(a):
    a[a == 0] = 1
    return a


class TensorMap:
    def __init__(self, array, spec):
        self.array, self.spec = array, spec


def dtype_of(a):
    return a.array.dtype if isinstance(a, TensorMap) else a.dtype


def run(kernel, grid, block, args, dumps, want_status=0, smem=0, echo=False):
    """args: numpy arrays (device buffers), 'i32:5'-style scalars or
    TensorMap(array, spec) (a tensor map of the array's buffer: tilus-run's
    tmap:BUF:SPEC, whose dump is the buffer); smem: dynamic shared memory
    bytes. Returns the dumped outputs; with want_status
    1 or echo, (outputs, stderr) (outputs None where a dump was not
    written)."""
    cmd = [tool, ptx, "--kernel", kernel, "--grid", grid, "--block", block]
    if smem:
        cmd += ["--smem", str(smem)]
    cmd += extra
    paths = {}
    for k, a in enumerate(args):
        if isinstance(a, str):
            cmd += ["--arg", a]
            continue
        paths[k] = os.path.join(work, "arg%d.bin" % k)
        if isinstance(a, TensorMap):
            a.array.tofile(paths[k])
            cmd += ["--arg", "tmap:%s:%s" % (paths[k], a.spec)]
            continue
        a.tofile(paths[k])
        cmd += ["--arg", "buf:" + paths[k]]
    for k in dumps:
        cmd += ["--dump", "%d:%s.out" % (k, paths[k])]
    for k in dumps:
        if os.path.exists(paths[k] + ".out"):
            os.remove(paths[k] + ".out")
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != want_status:
        print("FAIL: %s: tilus-run exit status %d, want %d: %s" %
              (name, r.returncode, want_status, r.stderr.strip()))
        sys.exit(1)
    outs = [np.fromfile(paths[k] + ".out", dtype=dtype_of(args[k]))
            if os.path.exists(paths[k] + ".out") else None for k in dumps]
    return outs if want_status == 0 and not echo else (outs, r.stderr)


def check(what, got, want, rtol=0.0, atol=0.0):
    got, want = np.asarray(got), np.asarray(want)
    if got.shape != want.shape:
        print("FAIL: %s: shape %s, want %s" % (what, got.shape, want.shape))
        sys.exit(1)
    if got.dtype.kind == "f":
        bad = ~np.isclose(got, want, rtol=rtol, atol=atol)
    else:
        bad = got != want
    if bad.any():
        idx = np.flatnonzero(bad)[:4]
        print("FAIL: %s: %d of %d elements differ, at %s: got %s want %s" %
              (what, bad.sum(), bad.size, idx, got.flat[idx], want.flat[idx]))
        sys.exit(1)


def halves(n, lo=-2, hi=2):
    return nonzero(rng.uniform(lo, hi, n).astype(np.float16))


def mma_ldmatrix():
    a, b = halves(256), halves(128)
    c = nonzero(rng.uniform(-2, 2, 128).astype(np.float32))
    (d,) = run("mma_ldmatrix", "1", "32",
               [a, b, c, np.full(128, 7, np.float32)], [3])
    want = (a.astype(np.float64).reshape(16, 16) @
            b.astype(np.float64).reshape(16, 8) + c.reshape(16, 8))
    check("mma_ldmatrix", d.reshape(16, 8), want, rtol=1e-5, atol=1e-5)


def wmma():
    a, b = halves(1024), halves(1024)
    (c,) = run("wmma_gemm", "1", "128", [a, b, np.full(1024, 7, np.float32)],
               [2])
    want = 2 * (a.astype(np.float64).reshape(32, 32) @
                b.astype(np.float64).reshape(32, 32))
    check("wmma", c.reshape(32, 32), want, rtol=1e-5, atol=1e-5)


def cp_async():
    chunks = 6
    x = nonzero(rng.uniform(-4, 4, 128 * chunks).astype(np.float32))
    (out,) = run("cp_async_pipeline", "1", "128",
                 [x, np.full(128, 7, np.float32), "i32:%d" % chunks], [1])
    w = np.arange(1, chunks + 1, dtype=np.float64)[:, None]
    check("cp_async", out, (w * x.reshape(chunks, 128)).sum(axis=0),
          rtol=1e-5, atol=1e-5)


def hopper_async():
    rows = 7
    x = nonzero(rng.uniform(-4, 4, rows * 256).astype(np.float32))
    scale = nonzero(rng.uniform(-2, 2, rows).astype(np.float32))
    (out,) = run("bulk_pipeline", "2", "160",
                 [x, scale, np.full(rows * 256, 7, np.float32),
                  "i32:%d" % rows], [2])
    xr = x.reshape(rows, 256).astype(np.float64)
    want = sum((k + 1) * np.roll(xr, -64 * k, axis=1) for k in range(4))
    check("bulk_pipeline", out.reshape(rows, 256),
          want * scale[:, None], rtol=1e-5, atol=1e-5)
    t = nonzero(rng.integers(-1 << 20, 1 << 20, 3 * 1024).astype(np.int32))
    (out,) = run("block_barrier", "3", "256",
                 [t, np.full(3 * 1024, 7, np.int32)], [1])
    tt = t.reshape(3, 32, 32).transpose(0, 2, 1).astype(np.int64)
    check("block_barrier", out.reshape(3, 32, 32),
          tt * 3 + np.arange(32)[None, :, None])


def swizzled(box, span):
    """The bytes of a dense box as a swizzled TMA copy leaves them: the
    16-byte chunk index (address bits 4-6) XOR the 128-byte row index (bits
    7-9), masked to 1, 2 or 3 bits for 32, 64 or 128-byte spans."""
    raw = np.frombuffer(box.tobytes(), np.uint8)
    if not span:
        return raw
    mask = {32: 1, 64: 3, 128: 7}[span]
    off = np.arange(raw.size)
    to = (off & ~0x70) | ((((off >> 4) & 7) ^ ((off >> 7) & mask)) << 4)
    out = np.zeros_like(raw)
    out[to] = raw
    return out


def hopper_tma():
    rows, cols, pitch = 100, 70, 72  # rows of 288 bytes: 16-byte multiples
    for dtype, name, size in ((np.float32, "f32", 4), (np.float16, "f16", 2)):
        for span in (0, 32, 64, 128):
            bw = (span or 64) // size
            bh = 24
            m = nonzero(rng.uniform(-8, 8, rows * pitch).astype(dtype))
            spec = "%s:%d,%d:%d,%d:strides=%d%s" % (
                name, cols, rows, bw, bh, pitch * size,
                ":swizzle=%d" % span if span else "")
            gx, gy = -(-cols // bw), -(-rows // bh)
            out0 = np.full(rows * pitch, 7, dtype)
            raw0 = np.full(gx * gy * bw * bh, 7, dtype)
            what = "tma2d_%s swizzle %d" % (name, span)
            out, raw = run("tma2d_" + name, "%d,%d" % (gx, gy), "128",
                           [TensorMap(m, spec), TensorMap(out0, spec), raw0,
                            "i32:%d" % bw, "i32:%d" % bh], [1, 2])
            mm = m.reshape(rows, pitch)
            want = out0.reshape(rows, pitch).copy()
            want[:, :cols] = (mm[:, :cols].astype(np.float64) * 2 + 1)
            check(what + " store", out.reshape(rows, pitch), want)
            raw = raw.reshape(gy, gx, bh * bw)
            for by in range(gy):
                for bx in range(gx):
                    box = np.zeros((bh, bw), dtype)
                    part = mm[by * bh:(by + 1) * bh, bx * bw:min((bx + 1) * bw, cols)]
                    box[:part.shape[0], :part.shape[1]] = part
                    check("%s raw box (%d,%d)" % (what, bx, by),
                          np.frombuffer(raw[by, bx].tobytes(), np.uint8),
                          swizzled(box, span))
    # A 3-d box with an element stride of 2 in dimension 1, at a corner.
    d0, d1, d2 = 20, 9, 5
    t = nonzero(rng.uniform(-8, 8, d0 * d1 * d2).astype(np.float32))
    b0, b1, b2, x, y, z = 8, 6, 3, 16, -1, 3
    n1 = -(-b1 // 2)
    spec = "f32:%d,%d,%d:%d,%d,%d:strides=%d,%d:estrides=1,2,1" % (
        d0, d1, d2, b0, b1, b2, d0 * 4, d0 * d1 * 4)
    nbytes = b0 * n1 * b2 * 4
    (raw,) = run("tma3d", "1", "64",
                 [TensorMap(t, spec), np.full(nbytes // 4, 7, np.float32),
                  "i32:%d" % x, "i32:%d" % y, "i32:%d" % z, "i32:%d" % nbytes],
                 [1])
    tt = t.reshape(d2, d1, d0)
    want = np.zeros((b2, n1, b0), np.float32)
    for k in range(b2):
        for j in range(n1):
            for i in range(b0):
                g = (z + k, y + 2 * j, x + i)
                if 0 <= g[0] < d2 and 0 <= g[1] < d1 and 0 <= g[2] < d0:
                    want[k, j, i] = tt[g]
    check("tma3d", raw.reshape(b2, n1, b0), want)


def hopper_gemm():
    m, n, k = 128, 192, 256
    a = nonzero(rng.uniform(-2, 2, (m, k)).astype(np.float16))
    b = nonzero(rng.uniform(-2, 2, (n, k)).astype(np.float16))
    box = "64,64:swizzle=128"
    (c,) = run("wgmma_gemm", "%d,%d" % (n // 64, m // 64), "128",
               [TensorMap(a, "f16:%d,%d:%s" % (k, m, box)),
                TensorMap(b, "f16:%d,%d:%s" % (k, n, box)),
                np.full(m * n, 7, np.float32), "i32:%d" % n, "i32:%d" % k],
               [2])
    # f32 accumulation over 16 K steps of 16: within 1e-4 of the exact sum.
    check("wgmma_gemm", c.reshape(m, n),
          a.astype(np.float64) @ b.astype(np.float64).T, rtol=1e-5, atol=1e-4)


def e4m3_values(codes):
    """e4m3 codes as float64, by the format: bias 7, 3 fraction bits."""
    c = codes.astype(np.int64)
    e, f = (c >> 3) & 15, c & 7
    v = np.where(e > 0, (1 + f / 8) * 2.0 ** (e - 7), f / 8 * 2.0 ** -6)
    return np.where(c & 0x80, -v, v)


def hopper_gemm8():
    m, n, k = 128, 192, 256
    grid = "%d,%d" % (n // 64, m // 64)
    a = nonzero(rng.integers(-128, 128, (m, k)).astype(np.int8))
    b = nonzero(rng.integers(-128, 128, (n, k)).astype(np.int8))
    (c,) = run("gemm_s8", grid, "128",
               [a.view(np.uint8), b.view(np.uint8), np.full(m * n, 7, np.int32),
                "i32:%d" % n, "i32:%d" % k], [2])
    check("gemm_s8", c.reshape(m, n),
          a.astype(np.int64) @ b.astype(np.int64).T)
    # e4m3 with exponent fields 5-9 (magnitudes 0.25 to 15): every partial
    # sum of the 256 products is a multiple of 2^-10 under 2^14, exact in
    # f32, so C is the exact product.
    def codes(rows):
        return (rng.integers(0, 2, (rows, k)) << 7 |
                rng.integers(5, 10, (rows, k)) << 3 |
                rng.integers(0, 8, (rows, k))).astype(np.uint8)
    a8, b8 = codes(m), codes(n)
    (c,) = run("gemm_e4m3", grid, "128",
               [a8, b8, np.full(m * n, 7, np.float32), "i32:%d" % n,
                "i32:%d" % k], [2])
    check("gemm_e4m3", c.reshape(m, n).astype(np.float64),
          e4m3_values(a8) @ e4m3_values(b8).T)

def shuffle():
    n = 256
    v = nonzero(rng.integers(-1000, 1000, n).astype(np.int32))
    (out,) = run("shuffles", "2", "128", [v, np.full(3 * n + n // 32, 7,
                                                     np.int32)], [1])
    w = v.reshape(-1, 32).astype(np.int64)
    check("shfl.up scan", out[:n], np.cumsum(w, axis=1).ravel())
    check("shfl.bfly max", out[n:2 * n], np.repeat(w.max(axis=1), 32))
    check("shfl.idx broadcast", out[2 * n:3 * n], np.repeat(w[:, 3], 32))
    check("shfl.down sum", out[3 * n:], w.sum(axis=1))


def reduce():
    v = nonzero(rng.integers(-1 << 20, 1 << 20, 8 * 256).astype(np.int32))
    (out,) = run("block_reduce", "8", "256", [v, np.full(8, 7, np.int32)], [1])
    check("reduce", out, v.reshape(8, 256).astype(np.int64).sum(axis=1))


def atomics():
    v = rng.integers(1, 1 << 31, 4 * 256, dtype=np.int64).astype(np.uint32)
    hist = nonzero(rng.integers(0, 100, 64).astype(np.uint32))
    mx = np.array([5], np.int32)
    total = np.array([12345], np.uint64)
    h, m, s = run("histogram", "4", "256", [v, hist, mx, total], [1, 2, 3])
    check("histogram", h, hist + np.bincount(v % 64, minlength=64))
    check("atomicMax", m, [max(5, int((v >> 1).max()))])
    check("atomicAdd u64", s, [12345 + int(v.astype(np.uint64).sum())])


def divergent():
    v = rng.integers(1, 100000, 512, dtype=np.int64).astype(np.uint32)
    v[:4] = [1, 2, 27, 77671]
    steps, odd = run("collatz", "4", "128", [v, np.full(512, 7, np.uint32),
                                             np.full(512, 7, np.uint32)],
                     [1, 2])
    ws, wo = [], []
    for x in v.astype(np.int64):
        n = o = 0
        while x != 1 and n < 1000:
            n += 1
            if x & 1:
                o += 1
                x = 3 * x + 1
            else:
                x //= 2
        ws.append(n)
        wo.append(o)
    check("collatz steps", steps, ws)
    check("collatz odd steps", odd, wo)


def split_k():
    rows, k, splits = 256, 512, 4
    a = nonzero(rng.uniform(-1, 1, rows * k).astype(np.float32))
    x = nonzero(rng.uniform(-1, 1, k).astype(np.float32))
    y = np.full(rows, 7, np.float32)
    lock = np.zeros(rows // 64, np.int32)
    yo, lo = run("split_k", "%d,%d" % (rows // 64, splits), "64",
                 [a, x, y, lock, "i32:%d" % k], [2, 3])
    want = a.astype(np.float64).reshape(rows, k) @ x.astype(np.float64)
    check("split_k y", yo, want, rtol=1e-4, atol=1e-4)
    check("split_k locks", lo, np.full(rows // 64, splits, np.int32))


def bf16(v):
    """Rounds float64 values once to bf16 (nearest even), as float32."""
    v = np.asarray(v, np.float64)
    b = v.view(np.uint64)
    lsb = (b >> np.uint64(45)) & np.uint64(1)
    b = (b + np.uint64((1 << 44) - 1) + lsb) & ~np.uint64((1 << 45) - 1)
    normal = b.view(np.float64)
    # Below 2^-126 the step is 2^-133; scaling by a power of two is exact and
    # np.round rounds half to even.
    sub = np.round(v * 2.0 ** 133) * 2.0 ** -133
    r = np.where(np.abs(v) < 2.0 ** -126, sub, normal)
    with np.errstate(over="ignore"):
        return r.astype(np.float32)


def f16(v):
    """Rounds float64 values once to f16 (numpy converts double to half
    directly, nearest even), as float32."""
    with np.errstate(over="ignore"):
        return np.asarray(v, np.float64).astype(np.float16).astype(np.float32)


def exact_sum(p, c):
    """p + c rounded to odd in float64: a later rounding to a format of at
    most 51 bits (bf16, f16) is then the rounding of the exact sum."""
    s = p + c
    t = s - p
    e = (p - (s - t)) + (c - t)  # TwoSum: p + c == s + e exactly
    odd = (s.view(np.uint64) & np.uint64(1)) == 1
    toward = np.where(e > 0, np.inf, -np.inf)
    return np.where((e != 0) & ~odd, np.nextafter(s, toward), s)


def random_floats(n, bits, man, lo, hi):
    """Random finite values of a format with `man` fraction bits, exponents
    (unbiased) in [lo, hi], either sign, as float32 (exact)."""
    e = rng.integers(lo, hi + 1, n)
    m = rng.integers(0, 1 << man, n)
    v = (1 + m / 2.0 ** man) * 2.0 ** e * rng.choice([-1.0, 1.0], n)
    return v.astype(np.float32)


def bf16_ops():
    n = 1 << 14
    x = (2.0 ** rng.uniform(-20, 20, n) *
         rng.choice([-1.0, 1.0], n)).astype(np.float32)
    # bf16 operands over 120 binades: products are often ties at bf16
    # precision (16-bit significands) next to an addend too small for a
    # double fma to keep, which is where rounding twice goes wrong.
    a, b, c = (random_floats(2 * n, 16, 7, -60, 60) for _ in range(3))
    ha, hb, hc = (random_floats(2 * n, 16, 10, -14, 15) for _ in range(3))
    (out,) = run("half_ops", "%d" % (n // 128), "128",
                 [x, a, b, c, ha, hb, hc, np.full(16 * n, 7, np.float32),
                  "i32:%d" % n], [7])
    out = out.reshape(n, 16)
    A, B, C = (v.astype(np.float64) for v in (a, b, c))
    H = [v.astype(np.float64) for v in (ha, hb, hc)]
    want = np.zeros((n, 16), np.float32)
    want[:, 0] = bf16(x)
    want[:, 1] = f16(x)
    for k, (fn, ref) in enumerate([(bf16, (A, B, C)), (f16, H)]):
        p, q, r = ref
        base = 2 + 6 * k
        want[:, base + 0:base + 2] = fn(p * q).reshape(n, 2)
        want[:, base + 2:base + 4] = fn(exact_sum(p, q)).reshape(n, 2)
        want[:, base + 4:base + 6] = fn(exact_sum(p * q, r)).reshape(n, 2)
    want[:, 14] = bf16(exact_sum(A[0::2] * B[1::2], C[0::2]))
    want[:, 15] = f16(want[:, 7])
    names = ["bf16 round trip", "f16 round trip", "bf16x2 mul", "bf16x2 mul",
             "bf16x2 add", "bf16x2 add", "bf16x2 fma", "bf16x2 fma",
             "f16x2 mul", "f16x2 mul", "f16x2 add", "f16x2 add", "f16x2 fma",
             "f16x2 fma", "bf16 fma", "bf16 to f16"]
    for j in range(16):
        check("%s (column %d)" % (names[j], j), out[:, j].view(np.uint32),
              want[:, j].view(np.uint32))


def prefetch_war():
    """The mode is extra's --racecheck=MODE, else $TILUS_EMU_RACECHECK.
    report: exit 1, exact dumps, the hazard on stderr; stop: exit 1 at the
    hazard, no dumps; off: exit 0, exact."""
    modes = [a.split("=")[1] for a in extra if a.startswith("--racecheck=")]
    mode = modes[-1] if modes else os.environ["TILUS_EMU_RACECHECK"]
    ctas, threads, stages = 4, 256, 4
    v = nonzero(rng.integers(-1000, 1000, ctas * threads).astype(np.int32))
    args = [v, np.full(ctas * threads, 7, np.int32)]
    t = np.arange(threads)
    w = v.reshape(ctas, threads).astype(np.int64)
    sums = sum((i + 1) * w[:, (t + 32 * i) % threads] for i in range(stages))
    want = sums[:, t ^ 32].ravel()
    if mode == "off":
        (out,) = run("prefetch_war", str(ctas), str(threads), args, [1])
    else:
        (out,), err = run("prefetch_war", str(ctas), str(threads), args, [1],
                          want_status=1)
        sys.stdout.write(err)
        if mode == "stop":
            if out is not None:
                print("FAIL: prefetch_war: a stopped launch wrote its dump")
                sys.exit(1)
            return
        if out is None:
            print("FAIL: prefetch_war: no dump under --racecheck=report")
            sys.exit(1)
    check("prefetch_war", out, want)


def warp_groups(n):
    """Per thread t < n: the threads of its warp (32 consecutive threads)
    that are below n, sorted."""
    idx = np.arange(n)
    return [idx[idx // 32 == t // 32] for t in idx]


def warp_masks():
    ctas, threads, n = 2, 64, 100  # the last warp has 4 live lanes
    v = nonzero(rng.integers(-1000, 1000, ctas * threads).astype(np.int32))
    v[32:64] = np.abs(v[32:64])  # one warp whose values all share a sign
    (out,) = run("warp_masks", str(ctas), str(threads),
                 [v, np.full(8 * ctas * threads, 7, np.uint32), "i32:%d" % n],
                 [1])
    out = out.reshape(-1, 8)[:n]
    u = v.astype(np.int64) & 0xffffffff
    want = np.zeros((n, 8), np.uint64)
    for t, g in enumerate(warp_groups(n)):
        lanes = g % 32
        mask = int(np.bitwise_or.reduce(1 << lanes))
        want[t, 0] = int(np.bitwise_or.reduce(np.where(v[g] > 0, 1 << lanes,
                                                       0)))
        same = (v[g] & 7) == (v[t] & 7)
        want[t, 1] = int(np.bitwise_or.reduce(np.where(same, 1 << lanes, 0)))
        alls = len(set((v[g] >> 30).tolist())) == 1
        want[t, 2] = ((mask if alls else 0) + int(alls)) & 0xffffffff
        want[t, 3] = int(v[g].astype(np.int64).sum()) & 0xffffffff
        want[t, 4] = int((u[g] & 0xffff).min())
        want[t, 5] = int(v[g].max()) & 0xffffffff
        want[t, 6] = int(np.bitwise_and.reduce(u[g] | 0xf0))
        want[t, 7] = int(np.bitwise_xor.reduce(u[g]))
    names = ["ballot", "match_any", "match_all", "reduce_add", "reduce_min",
             "reduce_max", "reduce_and", "reduce_xor"]
    for k in range(8):
        check(names[k], out[:, k].astype(np.uint64), want[:, k])


def half_masks():
    ctas, threads = 2, 64
    v = nonzero(rng.integers(-1000, 1000, ctas * threads).astype(np.int32))
    (out,) = run("half_masks", str(ctas), str(threads),
                 [v, np.full(4 * ctas * threads, 7, np.uint32)], [1])
    out = out.reshape(-1, 4).astype(np.int64)
    h = v.reshape(-1, 16).astype(np.int64)
    lanes = np.arange(ctas * threads) % 32
    bits = np.where(v > 0, 1 << lanes, 0).reshape(-1, 16)
    check("half ballot", out[:, 0], np.repeat(bits.sum(axis=1), 16))
    check("half reduce_add", out[:, 1],
          np.repeat(h.sum(axis=1), 16) & 0xffffffff)
    check("half reduce_max", out[:, 2],
          np.repeat(h.max(axis=1), 16) & 0xffffffff)
    check("half reduce_or", out[:, 3],
          np.repeat(np.bitwise_or.reduce(h & 0x0f0f, axis=1), 16))


def cg_tiles():
    ctas, threads = 2, 64
    total = ctas * threads
    v = nonzero(rng.integers(-1000, 1000, total).astype(np.int32))
    v[16:32] = np.abs(v[16:32]) % 900 + 1  # a tile where all() holds
    v[40] = 950                             # and one where any() does
    f = nonzero(rng.integers(-100, 100, total).astype(np.float32))
    out, fout = run("cg_tiles", str(ctas), str(threads),
                    [v, f, np.full(6 * total, 7, np.int32),
                     np.full(total, 7, np.float32)], [2, 3])
    out = out.reshape(total, 6)
    tiles = v.reshape(-1, 16).astype(np.int64)
    rank = np.arange(total) % 16
    base = np.arange(total) - rank
    check("tile sum", out[:, 0], np.repeat(tiles.sum(axis=1), 16))
    check("tile max", out[:, 1], np.repeat(tiles.max(axis=1), 16))
    down = np.where(rank + 3 < 16, base + rank + 3, np.arange(total))
    check("tile shfl_down", out[:, 2], v[down])
    check("tile shfl", out[:, 3], v[base + (rank + 5) % 16])
    anyv = np.repeat((tiles > 900).any(axis=1), 16)
    allv = np.repeat((tiles > -900).all(axis=1), 16)
    check("tile any/all", out[:, 4], anyv + 2 * allv)
    check("tile ranks", out[:, 5],
          rank + 100 * ((np.arange(total) % threads) // 16))
    check("tile float sum", fout,
          np.repeat(f.reshape(-1, 16).sum(axis=1), 16))


def templates():
    names = re.findall(r"\.entry\s+(\w+)\(", open(ptx).read())
    if len(names) != 10:
        print("FAIL: templates: %d kernels in the module, want 10" %
              len(names))
        sys.exit(1)
    n, ctas, threads = 1000, 3, 64
    x = nonzero(rng.integers(-1000, 1000, n).astype(np.int32))
    for kname in names:
        N = int(re.search(r"ILi(\d+)E", kname).group(1))
        (out,) = run(kname, str(ctas), str(threads),
                     [x, np.full(ctas * threads, 7, np.int32), "i32:%d" % n],
                     [1])
        want = []
        for b in range(ctas):
            tile = x[(b * 64 * N + np.arange(64 * N)) % n].astype(np.int64)
            for t in range(threads):
                want.append(sum((k + 1) * tile[(t * N + 7 * k) % (64 * N)]
                                for k in range(N)) + N)
        check("stencil<%d>" % N, out, np.array(want))


def words(n):
    """n random 32-bit words, never zero."""
    return nonzero(rng.integers(1, 1 << 32, n, dtype=np.uint64).astype(
        np.uint32))


M32 = 0xFFFFFFFF


def blocks(x):
    """x as 2 CTAs of 128 threads, in int64 (products stay exact)."""
    return x.reshape(2, 128).astype(np.int64)


def u32(a):
    return np.asarray(a).ravel().astype(np.uint32)


def tail_sync():
    x = words(256)
    x[x == 0x5A5A5A5A] = 1
    xb, t = blocks(x), np.arange(128)
    out, lk = run("tail_sync", "2", "128",
                  [x, np.full(256, 7, np.uint32), np.full(2, 7, np.uint32)],
                  [1, 2])
    s = np.where(t == 0, xb ^ 0x5A5A, xb) * 3 & M32
    want = (s[:, (t + 1) & 127] + s[:, :1]) & M32
    check("tail_sync", out, u32(want))
    check("tail_sync lock", lk, np.zeros(2, np.uint32))


def loop_branches():
    x = words(256)
    xb, t = blocks(x), np.arange(128)
    (out,) = run("loop_branches", "2", "128",
                 [x, np.full(256, 7, np.uint32)], [1])
    want = np.zeros((2, 128), np.int64)
    for i in range(4):
        b = np.where(t & 1, xb + i, xb * (i + 1)) & M32
        other = b[:, t ^ 1]
        want = np.where(t & 1, (want + other * 3) & M32, want ^ other)
    check("loop_branches", out, u32(want))


def early_exit():
    x = words(256)
    x[::5] &= np.uint32(0xFFFFFFF8)  # more threads leave at the first exit
    x[x == 0] = 16
    xb, t = blocks(x), np.arange(128)
    (out,) = run("early_exit", "2", "128", [x, np.full(256, 7, np.uint32)],
                 [1])
    first = (xb & 7) == 0
    total = np.where(first, 0, xb & 0xFFFF).sum(axis=1) & M32
    second = ~first & ((xb & 8) == 0)
    want = np.where(first, xb * 5 & M32, 7)
    want = np.where(second, (total[:, None] + xb[:, (t + 5) & 127]) & M32,
                    want)
    check("early_exit", out, u32(want))


def counted():
    x = words(256)
    xb, t = blocks(x), np.arange(128)
    (out,) = run("counted", "2", "128", [x, np.full(256, 7, np.uint32)], [1])
    a = np.where(t < 64, np.where(t & 1, xb + 17, xb ^ 0x33), xb * 5) & M32
    want = np.where(t < 64, a[:, (63 - t) % 128] + np.where(t & 1, 0, 1),
                    a[:, (191 - t) % 128]) & M32
    check("counted", out, u32(want))


def lanes_of(x):
    """x as warps of 32 lanes, in int64."""
    return x.reshape(-1, 32).astype(np.int64)


def vote_sites():
    x = words(128)
    x[5] &= 0x3FFFFFFF  # warp 0: lane 0's all_sync predicate fails
    x[40] = 0  # warp 1: an all_sync predicate of lanes 1-31 fails
    x[70] &= 0xFFFFFF00  # warp 2: an any_sync predicate of lanes 1-31 holds
    xw = lanes_of(x)
    (out,) = run("vote_sites", "2", "64", [x, np.full(6 * 128, 7, np.uint32)],
                 [1])
    got = out.reshape(-1, 32, 6)
    lane0 = np.arange(32) == 0
    bits = np.where(lane0, (xw >> 1) & 1, xw & 1)
    ballot = (bits << np.arange(32)).sum(axis=1)
    anyp = np.where(lane0, (xw & 4) != 0, (xw & 0xFF) == 0).any(axis=1)
    allp = np.where(lane0, (xw & 0x40000000) != 0, xw != 0).all(axis=1)
    src = np.where(lane0, xw * 7, xw + 9) & M32
    shfl = np.where(lane0, src[:, 5:6], src[:, (np.arange(32) + 1) & 31])
    add = np.where(lane0, xw & 0xFF, xw & 0xFFFF).sum(axis=1) & M32
    mx = np.where(lane0, xw >> 4, xw >> 8).max(axis=1)
    for k, (what, want) in enumerate([("ballot", ballot), ("any", anyp),
                                      ("all", allp), ("shfl", shfl),
                                      ("reduce add", add),
                                      ("reduce max", mx)]):
        want = np.broadcast_to(np.asarray(want).reshape(4, -1), (4, 32))
        check("vote_sites " + what, got[:, :, k], u32(want).reshape(4, 32))


def match_sites():
    x = words(128)
    x[32:64] = 77  # warp 1: every lane of the x / x + 1 match passes 77 + 1
    x[32] = 78
    xw = lanes_of(x)
    (out,) = run("match_sites", "2", "64",
                 [x, np.full(3 * 128, 7, np.uint32), "u32:1234", "u32:1234"],
                 [1])
    got = out.reshape(-1, 32, 3)
    lane0 = np.arange(32) == 0
    v = np.where(lane0, xw & 3, (xw >> 2) & 3)
    same = v[:, :, None] == v[:, None, :]
    want_any = (same * (1 << np.arange(32))).sum(axis=2)
    check("match_sites any", got[:, :, 0], u32(want_any).reshape(4, 32))
    # k == k2: every lane matches; the predicate bit 31 flips the full mask.
    check("match_sites all equal", got[:, :, 1],
          np.full((4, 32), 0x7FFFFFFF, np.uint32))
    v = np.where(lane0, xw, xw + 1) & M32
    equal = (v == v[:, :1]).all(axis=1)
    want_all = np.where(equal, M32, 0)[:, None] | equal[:, None]
    check("match_sites all", got[:, :, 2],
          u32(np.broadcast_to(want_all, (4, 32))).reshape(4, 32))


def syncwarp_sites():
    x = words(128)
    xw = lanes_of(x)
    (out,) = run("syncwarp_sites", "2", "64", [x, np.full(128, 7, np.uint32)],
                 [1])
    t = np.arange(128).reshape(4, 32) % 64
    want = np.where(t % 32 == 0, (xw[:, 1:2] + 77) & M32,
                    ((xw[:, :1] ^ 0xABC) + t) & M32)
    check("syncwarp_sites", out.reshape(4, 32), u32(want).reshape(4, 32))



def pack_int4(q):
    """q (k x n, values 0..15) in marlin_int4.cu's weight order: u32 words
    [k / 64][n / 16][lane][4], nibble j + 2r + 4h of word kk of lane 4g + t
    holding row 64 kb + 16 kk + 2t + 8r + h, column 16 np + 8j + g."""
    k, n = q.shape
    kb, np_, lane, kk, j, r, h = np.ix_(np.arange(k // 64), np.arange(n // 16),
                                        np.arange(32), np.arange(4),
                                        np.arange(2), np.arange(2),
                                        np.arange(2))
    g, t = lane // 4, lane % 4
    rows = 64 * kb + 16 * kk + 2 * t + 8 * r + h
    cols = 16 * np_ + 8 * j + g
    nib = q[rows, cols].astype(np.uint64) << (4 * (j + 2 * r + 4 * h)
                                              ).astype(np.uint64)
    return nib.sum(axis=(4, 5, 6)).astype(np.uint32).ravel()


def marlin_problem(m, n, k):
    a = halves(m * k, -1, 1).reshape(m, k)
    q = rng.integers(0, 15, (k, n))
    q[q >= 8] += 1  # never 8: every weight is non-zero
    s = rng.uniform(0.01, 0.1, (k // 128, n)) * rng.choice([-1, 1],
                                                          (k // 128, n))
    s = s.astype(np.float16)
    w = ((q - 8) * np.repeat(s.astype(np.float64), 128, axis=0)).astype(
        np.float16).astype(np.float64)
    return a, q, s, w


MARLIN_SMEM = 4 * (64 * 64 * 2 + 64 * 128 // 2 + 128 * 2)


def marlin_launch(m, n, k, slices, want_status=0, problem=None):
    a, q, s, w = problem or marlin_problem(m, n, k)
    args = [a.ravel(), pack_int4(q), s.ravel(),
            np.full(m * n, 7, np.float16), np.full(m * n, 7, np.float32),
            np.zeros(n // 128, np.int32), "i32:%d" % m, "i32:%d" % n,
            "i32:%d" % k, "i32:%d" % slices]
    global extra
    saved, extra = extra, extra + ["--smem", str(MARLIN_SMEM)]
    try:
        res = run("marlin_int4", "%d,%d" % (n // 128, slices), "256", args,
                  [3, 5], want_status)
    finally:
        extra = saved
    return a, w, res


def marlin_int4():
    """Under each race-check mode: no hazard, every element of C within
    f16 rounding of the float64 product, the locks back to 0."""
    for m, n, k, slices in [(64, 512, 2048, 4), (16, 256, 1024, 8),
                            (48, 384, 1536, 3)]:
        a, w, (c, locks) = marlin_launch(m, n, k, slices)
        a64 = a.astype(np.float64)
        want = a64 @ w
        # f32 accumulation: far below this bound; f16 output: half an ulp.
        atol = 2.0 ** -20 * (np.abs(a64) @ np.abs(w)) + 2.0 ** -25
        what = "marlin_int4 m=%d n=%d k=%d slices=%d" % (m, n, k, slices)
        check(what, c.astype(np.float64).reshape(m, n), want,
              rtol=2.0 ** -11, atol=atol)
        check(what + " locks", locks, np.zeros(n // 128, np.int32))


def marlin_int4_seeds():
    """Seeded random schedules (CTA order, turns of 1 to 4096
    warp-instructions, warp order) give C bit for bit as the fixed one: the
    slices add in lock order whatever runs when."""
    global extra
    outs = []
    base = extra
    problem = marlin_problem(64, 512, 2048)
    for seed in range(4):
        extra = base + ["--schedule-seed", str(seed)]
        a, w, (c, locks) = marlin_launch(64, 512, 2048, 4, problem=problem)
        outs.append(c)
        check("marlin_int4 seed %d locks" % seed, locks, np.zeros(4, np.int32))
    extra = base
    want = a.astype(np.float64) @ w
    atol = 2.0 ** -20 * (np.abs(a.astype(np.float64)) @ np.abs(w)) + 2.0 ** -25
    check("marlin_int4 seed 0", outs[0].astype(np.float64).reshape(64, 512),
          want, rtol=2.0 ** -11, atol=atol)
    for seed in range(1, 4):
        check("marlin_int4 seed %d against seed 0" % seed,
              outs[seed].view(np.uint16), outs[0].view(np.uint16))


def marlin_int4_starved():
    """With too few SMs for all slices of a tile at once, the resident CTAs
    all wait for slices that cannot start: a no-progress report, no hang."""
    _, _, (_, err) = marlin_launch(64, 512, 2048, 4, want_status=1)
    sys.stdout.write(err)

def w4a16_config():
    """BM, BN, BK, SPLITK, STAGES and the shared memory bytes that the PTX
    was compiled for (its w4a16_config array, little-endian words)."""
    m = re.search(r"w4a16_config\[24\] = \{([0-9, ]+)\}", open(ptx).read())
    b = [int(x) for x in m.group(1).split(",")]
    b += [0] * (24 - len(b))  # the PTX leaves out trailing zero bytes
    return np.array(b, np.uint8).view("<i4").tolist()


def pack_w4(codes):
    """K x N codes (0..15) in the kernel's order: per 16 x 16 block (kb, nb)
    and lane 4 g + t one word whose nibbles 0..7 are the codes at (2t, g),
    (2t + 8, g), (2t, g + 8), (2t + 8, g + 8), then each at row + 1."""
    k, n = codes.shape
    blk = codes.reshape(k // 16, 16, n // 16, 16).transpose(0, 2, 1, 3)
    g, t = np.arange(32) // 4, np.arange(32) % 4
    rows = [2 * t, 2 * t + 8, 2 * t, 2 * t + 8]
    cols = [g, g, g + 8, g + 8]
    words = np.zeros((k // 16, n // 16, 32), np.uint64)
    for i in range(8):
        r = rows[i % 4] + i // 4
        words |= blk[:, :, r, cols[i % 4]].astype(np.uint64) << np.uint64(4 * i)
    return words.astype(np.uint32).ravel()


def w4a16():
    """C = A * dequant(B) with the K slices of a tile reduced in order through
    a lock per tile; the locks are 0 again afterwards. tilus-run's messages
    are passed on (a race report is a failure)."""
    bm, bn, bk, splitk, stages, smem = w4a16_config()
    # Other tiles (nvcc -DBM=...) run the sizes that they divide.
    sizes = [(m, n, k) for m, n, k in ((64, 512, 2048), (16, 256, 1024))
             if m % bm == 0 and n % bn == 0 and k % (bk * splitk) == 0]
    if not sizes:
        print("FAIL: w4a16: the tile %dx%dx%d divides no test size" %
              (bm, bn, bk * splitk))
        sys.exit(1)
    for m, n, k in sizes:
        a = halves(m * k, -1, 1)
        codes = rng.integers(0, 16, (k, n))
        scales = nonzero(rng.uniform(0.002, 0.02, (k // 128, n)).astype(
            np.float16))
        tiles = (m // bm) * (n // bn)
        args = [a, pack_w4(codes), scales.ravel(),
                np.full(m * n, 7, np.float16), np.full(m * n, 7, np.float32),
                np.zeros(tiles, np.int32),
                "i32:%d" % m, "i32:%d" % n, "i32:%d" % k]
        (c, locks), err = run("w4a16_matmul", "%d,%d" % (tiles, splitk), "256",
                              args, [3, 5], smem=smem, echo=True)
        sys.stdout.write(err)
        # The weights are f16: (q - 8) * scale rounded once.
        w = ((codes - 8) * np.repeat(scales.astype(np.float64), 128, axis=0))
        w = w.astype(np.float16).astype(np.float64)
        want = a.astype(np.float64).reshape(m, k) @ w
        # f32 sums of f16 products, rounded once to f16 at the end.
        what = "w4a16 %dx%dx%d" % (m, n, k)
        check(what, c.astype(np.float64).reshape(m, n), want, rtol=2.0 ** -10,
              atol=2.0 ** -20)
        check(what + " locks", locks, np.zeros(tiles, np.int32))


globals()[name]()
print("OK: " + name)
