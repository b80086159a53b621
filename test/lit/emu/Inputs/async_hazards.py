"""Inputs and the reference for async-hazards.test's wgmma kernel.

  async_hazards.py gen DIR     writes DIR/img.bin: A (64 x 16) and B (8 x 16)
                               f16, random quarters in [-2, 2] (never all
                               zero), in the no-swizzle K-major layout (core
                               matrices of 8 rows of 16 bytes, LBO 128, SBO
                               256; A at 0, B at 2048)
  async_hazards.py check DIR   compares DIR/out.bin (thread t: f0..f7, f32)
                               with D = A B (group 0) and -A B (group 1) by
                               the wgmma m64n8k16 fragment figure
"""
import sys

import numpy as np


def layout(r, b):
    return r // 8 * 256 + r % 8 * 16 + b // 16 * 128 + b % 16


def operands():
    rng = np.random.default_rng(90)
    a = rng.integers(-8, 9, (64, 16)).astype(np.float16) / np.float16(4)
    b = rng.integers(-8, 9, (8, 16)).astype(np.float16) / np.float16(4)
    return a, b


def gen(d):
    a, b = operands()
    img = np.zeros(2304, np.uint8)
    for base, m in ((0, a), (2048, b)):
        raw = m.view(np.uint8)
        for r in range(m.shape[0]):
            for byte in range(32):
                img[base + layout(r, byte)] = raw[r, byte]
    img.tofile(d + "/img.bin")


def check(d):
    a, b = operands()
    ref = a.astype(np.float64) @ b.astype(np.float64).T  # 64 x 8, exact
    out = np.fromfile(d + "/out.bin", np.float32).reshape(128, 8)
    bad = 0
    for t in range(128):
        w, l = t // 32, t % 32
        for i in range(8):
            j = i % 4
            row = 16 * w + l // 4 + 8 * ((j // 2) % 2)
            col = 2 * (l % 4) + j % 2
            want = ref[row, col] * (1 if i < 4 else -1)
            if out[t, i] != want:
                bad += 1
                if bad < 5:
                    print("thread %d f%d: %r, want %r" % (t, i, out[t, i], want))
    print("OK: wgmma" if not bad else "FAIL: %d elements" % bad)


{"gen": gen, "check": check}[sys.argv[1]](sys.argv[2])
