"""Runs the kernels of isa.cu (as PTX) through tilus-run on random inputs
and compares every output element with a numpy reference.

usage: isa_check.py TILUS_RUN PTX WORKDIR [KERNEL...]
Prints 'OK: <kernel>' per kernel, or 'FAIL: <kernel> ...' and exits 1.
"""
import os
import subprocess
import sys

import numpy as np

rng = np.random.default_rng(1234)
tool, ptx, work = sys.argv[1:4]
only = sys.argv[4:]
os.makedirs(work, exist_ok=True)
failed = False


def nonzero(a):
    a[a == 0] = 1
    return a


def run(kernel, block, args, dumps):
    """args: list of numpy arrays (buffers) or 'i32:..'-style strings."""
    cmd = [tool, ptx, "--kernel", kernel, "--grid", "1", "--block", str(block)]
    paths = {}
    for k, a in enumerate(args):
        if isinstance(a, str):
            cmd += ["--arg", a]
            continue
        p = os.path.join(work, "%s_%d.bin" % (kernel, k))
        a.tofile(p)
        paths[k] = p
        cmd += ["--arg", "buf:" + p]
    for k in dumps:
        cmd += ["--dump", "%d:%s.out" % (k, paths[k])]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(r.stderr)
    return {k: np.fromfile(paths[k] + ".out", dtype=args[k].dtype) for k in dumps}


def check(name, got, want, rtol=0.0, atol=0.0):
    global failed
    got, want = np.asarray(got), np.asarray(want)
    if got.dtype.kind == "f":
        ok = np.allclose(got, want, rtol=rtol, atol=atol, equal_nan=True)
    else:
        ok = np.array_equal(got, want)
    if not ok:
        bad = np.flatnonzero(~np.isclose(got, want, rtol=rtol, atol=atol)
                             if got.dtype.kind == "f" else got != want)
        print("FAIL: %s at %s: got %s want %s" % (name, bad[:4], got.flat[bad[:4]],
                                                want.flat[bad[:4]]))
        failed = True
    return ok


def k_generic_ptr():
    x = nonzero(rng.uniform(-4, 4, 64).astype(np.float32))
    count = np.array([5, 7], dtype=np.int32)
    o = run("generic_ptr", 64, [np.full(64, 9, np.float32), x, count], [0, 2])
    ok = check("generic_ptr out", o[0], 2 * x[np.arange(64) ^ 1])
    return check("generic_ptr count", o[2], [5 + 32, 32]) and ok


def k_atomics():
    v = nonzero(rng.integers(-1 << 30, 1 << 30, 32).astype(np.int32))
    a = nonzero(rng.integers(-1 << 20, 1 << 20, 10).astype(np.int32))
    a[4], a[5] = 90, 3
    b = nonzero(rng.integers(1, 1 << 40, 2).astype(np.uint64))
    h = np.array([1.5, -2.0], dtype=np.float16)
    d = np.array([0.75], dtype=np.float64)
    f = np.array([-3.0], dtype=np.float32)
    o = run("atomics", 32, [a, b, h, d, f, v], [0, 1, 2, 3, 4])
    u = v.view(np.uint32).astype(np.int64)
    want = a.copy().astype(np.int64)
    want[0] = (a[0] + v.astype(np.int64).sum())
    want[1] = a[1] | np.bitwise_or.reduce(v)
    want[2] = a[2] & np.bitwise_and.reduce(v)
    want[3] = a[3] ^ np.bitwise_xor.reduce(v)
    x = 90
    for _ in range(32):
        x = 0 if x >= 100 else x + 1
    want[4] = x
    x = 3
    for _ in range(32):
        x = 100 if x == 0 or x > 100 else x - 1
    want[5] = x
    want[6] = max(a[6], v.max())
    want[7] = min(a[7], v.min())
    want[8] = a[8] + v.astype(np.int64).sum()
    want[9] = a[9] + v.astype(np.int64).sum()
    want = ((want + (1 << 31)) % (1 << 32) - (1 << 31)).astype(np.int32)
    ok = check("atomics int", o[0], want)
    ok &= check("atomics u64", o[1],
                np.array([b[0] + np.uint64(u.sum()), max(int(b[1]), int(u.max()))],
                         dtype=np.uint64))
    ok &= check("atomics f16x2", o[2].astype(np.float64),
                [1.5 + (v & 7).sum(), -2.0 + (v & 3).sum()])
    ok &= check("atomics f64", o[3], [0.75 + 0.25 * (v & 255).sum()])
    return check("atomics f32", o[4], [-3.0 + 0.5 * (v & 15).sum()]) and ok


def dp4a(x, y, c, signed):
    xb = x.view(np.int8 if signed else np.uint8).reshape(-1, 4).astype(np.int64)
    yb = y.view(np.int8 if signed else np.uint8).reshape(-1, 4).astype(np.int64)
    s = (xb * yb).sum(axis=1) + c
    return ((s + (1 << 31)) % (1 << 32) - (1 << 31)).astype(np.int32)


def bfind(x, signed):
    out = []
    for e in x.astype(np.int64):
        if signed and e < 0:
            e = ~e
        e &= 0xffffffff
        out.append(-1 if e == 0 else int(e).bit_length() - 1)
    return np.array(out, dtype=np.int32)


def clz(e):
    e = int(e) & 0xffffffff
    return 32 - e.bit_length()


def ffs(e):
    e = int(e) & 0xffffffff
    return 0 if e == 0 else (e & -e).bit_length()


def k_intmisc():
    vals = nonzero(rng.integers(-1 << 31, 1 << 31, 64, dtype=np.int64)
                   .astype(np.int32))
    vals[3], vals[40] = -1, 1 << 30
    o = run("intmisc", 32, [vals, np.full(288, 7, np.int32),
                            np.full(32, 7, np.float64)], [1, 2])
    x, y = vals[:32], vals[32:]
    i = np.arange(32)
    ok = check("dp4a.s32", o[1][:32], dp4a(x, y, i, True))
    ok &= check("dp4a.u32", o[1][32:64], dp4a(x, y, i, False))
    sad = np.abs(x.astype(np.int64) - y.astype(np.int64)) + 3
    ok &= check("sad.s32", o[1][64:96],
                ((sad + (1 << 31)) % (1 << 32) - (1 << 31)).astype(np.int32))
    bits = np.array([clz(a) + ffs(b) + bin(int(a) & 0xffffffff).count("1")
                     for a, b in zip(x, y)], dtype=np.int32)
    ok &= check("clz+ffs+popc", o[1][96:128], bits)
    ok &= check("bfind.u32", o[1][128:160], bfind(x, False))
    ok &= check("bfind.s32", o[1][160:192], bfind(y, True))
    a, b = x * 0.125, y * 0.5
    ok &= check("f64", o[2], a * b - a / b + np.sqrt(np.abs(a)), rtol=1e-13)
    ok &= check("ld.acquire/st.release", o[1][192:224], x)
    ok &= check("cache_hint + f32 scope", o[1][224:256].view(np.float32),
                2 * y.view(np.float32), rtol=0, atol=0)
    return check("b16 scope", o[1][256:288], (x.view(np.uint32) & 0xffff)
                 .astype(np.int32)) and ok


def k_wmma_f16():
    a = nonzero(rng.uniform(-2, 2, 256).astype(np.float16))
    b = nonzero(rng.uniform(-2, 2, 256).astype(np.float16))
    c = nonzero(rng.uniform(-2, 2, 256).astype(np.float32))
    o = run("wmma_f16", 32, [a, b, c, np.zeros(256, np.float16) + 3], [2, 3])
    A = a.astype(np.float64).reshape(16, 16)          # row-major
    B = b.astype(np.float64).reshape(16, 16).T        # col-major
    C = c.astype(np.float64).reshape(16, 16).T        # col-major
    ok = check("wmma f32", o[2].reshape(16, 16), A @ B + C, rtol=1e-5,
               atol=1e-5)
    return check("wmma f16", o[3].astype(np.float64).reshape(16, 16).T,
                 A @ B + 0.5, rtol=2e-3, atol=2e-3) and ok


def k_cpasync():
    x = nonzero(rng.uniform(-4, 4, 128).astype(np.float32))
    o = run("cpasync", 128, [x, np.full(128, 9, np.float32)], [1])
    return check("cpasync", o[1], x[::-1])


def k_stmatrix():
    v = rng.integers(1, 1 << 32, 32, dtype=np.uint64).astype(np.uint32)
    o = run("stmatrix", 32, [v, np.full(128, 9, np.uint16)], [1])
    halves = v.view(np.uint16).reshape(32, 2)
    m = np.zeros((8, 8), np.uint16)
    for l in range(32):
        g, t = l // 4, l % 4
        m[g, 2 * t], m[g, 2 * t + 1] = halves[l]
    ok = check("stmatrix", o[1][:64].reshape(8, 8), m)
    return check("stmatrix.trans", o[1][64:].reshape(8, 8), m.T) and ok


for name, fn in [("generic_ptr", k_generic_ptr), ("atomics", k_atomics),
                 ("intmisc", k_intmisc), ("wmma_f16", k_wmma_f16),
                 ("cpasync", k_cpasync), ("stmatrix", k_stmatrix)]:
    if only and name not in only:
        continue
    try:
        if fn():
            print("OK: " + name)
    except RuntimeError as e:
        print("FAIL: %s: %s" % (name, e))
        failed = True
sys.exit(1 if failed else 0)
