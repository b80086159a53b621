"""Runs the shape kernels (shape_item, shape_broadcast, shape_reshape,
shape_early_exit) on the emulator with random non-zero inputs and checks
every output element against numpy.

  shape_check.py SRC_ROOT INPUTS_DIR CASE
"""
import sys

import numpy as np

sys.path.insert(0, sys.argv[1] + "/python")
import tilus  # noqa: E402

inputs, case = sys.argv[2], sys.argv[3]
rng = np.random.default_rng(7)
device = tilus.Device("emu")


def nonzero(shape, dtype=np.float32, low=-4.0, high=4.0):
    """Random values away from zero (ties and signs stay unambiguous)."""
    v = rng.uniform(low, high, shape)
    v = np.where(np.abs(v) < 0.25, 0.5, v)
    return v.astype(dtype)


def report(name, got, want):
    ok = np.array_equal(got, want)
    print(f"{name}: {ok}")
    if not ok:
        bad = np.argwhere(got != want)[:5]
        print("  first mismatches at", bad.tolist())
    return ok


def run_item():
    k = device.compile_file(f"{inputs}/shape_item.tl")
    results = []
    for trial in range(4):
        n = 100
        a = nonzero(n)
        if trial % 2:
            a[:48] = -np.abs(a[:48])        # max below 0.5: the else branch
        a[7] = abs(a[7]) * (-1 if trial < 2 else 1)
        idx = rng.integers(1, 40, n).astype(np.int32)
        o = np.zeros(n, np.float32)
        p = np.zeros(4, np.int32)
        k(a, idx, o, p, n)
        m = a[:48].max()
        j = int(idx[3])
        y = a[j:j + 40] + a[5]
        y = y * np.float32(2) if m > 0.5 else y - np.float32(1)
        if a[7] < 0:
            y = y + np.float32(100)
        want = np.zeros(n, np.float32)
        want[:40] = y
        results.append(report(f"item trial {trial} (max {m:.2f}, j {j})", o,
                              want))
        results.append(report(f"item scalar trial {trial}", p,
                              np.full(4, j * 3 + int(m), np.int32)))
    return results


def run_broadcast():
    k = device.compile_file(f"{inputs}/shape_broadcast.tl")
    m, n = 6, 40
    a, b = nonzero((m, n)), nonzero(n)
    c = rng.integers(-20, 20, n).astype(np.int32)
    outs = [np.zeros((m, n), np.float32) for _ in range(3)]
    o4 = np.zeros((m, n), np.int32)
    k(a, b, c, *outs, o4, m, n)
    x, v = a, b
    col = x.sum(axis=1, keepdims=True, dtype=np.float32)
    want3 = (x.reshape(2, 3, 40) - v.reshape(1, 40)).reshape(6, 40) + col * v
    return [
        report("[n] * [m, n] - [n]", outs[0], v * x - v),
        report("where([m, n] > [n], [m, n], [n]) + where([n] < 0, 1, [m, n])",
               outs[1], np.where(x > v, x, v) + np.where(v < 0, 1, x)),
        # The row sums' order is the layout's; integers keep it exact below.
        report("[2, 3, n] - [1, n], [m, 1] * [n]",
               np.abs(outs[2] - want3) <= 1e-5 * (1 + np.abs(want3)),
               np.full((m, n), True)),
        report("max(i32 [m, n], [n]) + ([n] & 7)", o4,
               np.maximum(x.astype(np.int32), c) + (c & 7)),
    ]


def run_reshape():
    k = device.compile_file(f"{inputs}/shape_reshape.tl")
    m, n, kk = 16, 64, 1100
    a = nonzero((m, n))
    h = nonzero((m, n), np.float16)
    q = rng.integers(-30, 30, (m, n)).astype(np.int8)
    o1, o2 = np.zeros(kk, np.float32), np.zeros(kk, np.float32)
    o3, o4 = np.zeros(kk, np.float16), np.zeros(kk, np.int8)
    k(a, h, q, o1, o2, o3, o4, m, n, kk)
    z = a[:6, :40].reshape(240).reshape(5, 48)
    g = h[1:4, :40]
    b = q[:4, :32]
    t = b.sum(axis=0, dtype=np.int8).reshape(32, 1)

    def padded(v, dtype):
        out = np.zeros(kk, dtype)
        out[:v.size] = v.reshape(-1)
        return out
    return [
        report("[16, 64] -> [4, 256] -> [1024]", o1,
               padded(a.reshape(4, 256) * np.float32(2), np.float32)),
        report("[6, 40] -> [240] -> [5, 48] -> [240]", o2,
               padded(z + z.max(axis=1, keepdims=True), np.float32)),
        report("squeeze(squeeze(expand_dims)) f16", o3,
               padded(g[2] - g, np.float16)),
        report("expand_dims i8 + [32, 4]", o4,
               padded(t + b.reshape(32, 4), np.int8)),
    ]


def run_early_exit():
    k = device.compile_file(f"{inputs}/shape_early_exit.tl")
    results = []
    # (limit, sentinel position): a limit reached mid-way, one never
    # reached, and a sentinel that ends the scan first.
    for limit, sentinel in ((1000.0, None), (1e9, None), (1e9, 300)):
        n = 1000
        x = rng.integers(-2, 7, n).astype(np.float32)
        x = np.where(x == 0, 1, x).astype(np.float32)
        if sentinel is not None:
            x[sentinel] = 1000
        bias = rng.integers(-3, 4, 32).astype(np.float32)
        sums, used = np.zeros(32, np.float32), np.zeros(4, np.int32)
        k(x, bias, sums, used, n, limit)
        acc, total, i = np.zeros(32, np.float64), 0.0, 0
        while i < n and total < limit:
            chunk = np.zeros(128)
            part = x[i:i + 128]
            chunk[:part.size] = part
            c = chunk.reshape(4, 32) + bias
            acc += c.sum(axis=0)
            total += c.sum()
            i += 128
            if c.max() >= 1000:
                break
        name = f"early exit limit {limit:g} sentinel {sentinel}"
        results.append(report(name + " (consumed " + str(i) + ")", used,
                              np.full(4, i, np.int32)))
        results.append(report(name + " sums", sums, acc.astype(np.float32)))
    return results


ok = {"item": run_item, "broadcast": run_broadcast, "reshape": run_reshape,
      "early_exit": run_early_exit}[case]()
sys.exit(0 if all(ok) else 1)
