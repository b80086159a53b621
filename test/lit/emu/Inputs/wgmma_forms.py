"""Inputs and the reference for wgmma-forms.test.

  wgmma_forms.py gen DIR     writes DIR/in.bin: a 7680-byte shared image,
                             then each thread's 4 A words (s8) and 8 D words
                             (s32): see the layout table below
  wgmma_forms.py check DIR   compares DIR/out.bin (thread t: 24 words) with
                             the three products, every element

The operands are placed by the PTX ISA's canonical layouts (CuTe notation,
T = 16 bytes of elements; swizzle S: the 16-byte chunk index, address bits
4-6, XORed with bits 7-9 masked to S / 16 - 1):
  K-major, row r, K byte b:
    none  start + (r // 8) SBO + (r % 8) 16 + (b // 16) LBO + b % 16
    S     start + (r // 8) SBO + (r % 8) S + b, swizzled
  MN-major (f16), MN byte c = 2 mn, k:
    none  start + (c // 16) SBO + c % 16 + (k % 8) 16 + (k // 8) LBO
    S     start + (c // S) LBO + c % S + (k % 8) S + (k // 8) SBO, swizzled
The values keep every sum exact in float64, so float32(sum) is the result.
"""
import sys

import numpy as np

N = 16


def swz(a, s):
    if s == 0:
        return a
    chunk = ((a >> 4) & 7) ^ ((a >> 7) & (s // 16 - 1))
    return (a & ~0x70) | (chunk << 4)


def kmajor(start, lbo, sbo, s, r, b):
    if s == 0:
        return start + r // 8 * sbo + r % 8 * 16 + b // 16 * lbo + b % 16
    return swz(start + r // 8 * sbo + r % 8 * s + b, s)


def mnmajor(start, lbo, sbo, s, mn, k):
    c = 2 * mn
    if s == 0:
        return start + c // 16 * sbo + c % 16 + k % 8 * 16 + k // 8 * lbo
    return swz(start + c // s * lbo + c % s + k % 8 * s + k // 8 * sbo, s)


def e4m3(b):
    e, m = (b >> 3) & 15, b & 7
    v = (1 + m / 8) * 2.0 ** (e - 7) if e else m / 8 * 2.0 ** -6
    return -v if b & 0x80 else v


def e5m2(b):
    e, m = (b >> 2) & 31, b & 3
    v = (1 + m / 4) * 2.0 ** (e - 15) if e else m / 4 * 2.0 ** -14
    return -v if b & 0x80 else v


def data():
    rng = np.random.default_rng(2026)
    # e4m3 with exponent fields 0-9, e5m2 with 0-17 (subnormals included).
    a8 = (rng.integers(0, 2, (64, 32)) << 7 | rng.integers(0, 10, (64, 32)) << 3
          | rng.integers(0, 8, (64, 32))).astype(np.uint8)
    b8 = (rng.integers(0, 2, (N, 32)) << 7 | rng.integers(0, 18, (N, 32)) << 2
          | rng.integers(0, 4, (N, 32))).astype(np.uint8)
    ai = rng.integers(-128, 128, (64, 32)).astype(np.int8)
    bi = rng.integers(0, 256, (N, 32)).astype(np.uint8)
    di = rng.integers(-2**20, 2**20, (64, N)).astype(np.int64)
    di[::2] = 2**31 - 1 - rng.integers(0, 2**16, (32, N))  # .satfinite
    ah = (rng.integers(-8, 9, (64, 16)) / 4).astype(np.float16)
    bh = (rng.integers(-8, 9, (N, 16)) / 4).astype(np.float16)
    return a8, b8, ai, bi, di, ah, bh


def dcoord(t, i):
    w, l = t // 32, t % 32
    return 16 * w + l // 4 + 8 * ((i // 2) % 2), 8 * (i // 4) + 2 * (l % 4) + i % 2


def gen(d):
    a8, b8, ai, bi, di, ah, bh = data()
    img = np.zeros(7680, np.uint8)
    for r in range(64):
        for b in range(32):  # A e4m3 at 0: 32-byte swizzle, SBO 256
            img[kmajor(0, 16, 256, 32, r, b)] = a8[r, b]
    for r in range(N):
        for b in range(32):
            # B e5m2 at 2048: no swizzle, LBO 128, SBO 256
            img[kmajor(2048, 128, 256, 0, r, b)] = b8[r, b]
            # B u8 at 3072: 128-byte swizzle, SBO 1024
            img[kmajor(3072, 16, 1024, 128, r, b)] = bi[r, b]
    hv = lambda x: x.view(np.uint16)
    for mn in range(64):
        for k in range(16):  # A f16 MN-major at 5120: 64B swizzle, LBO 512, SBO 1024
            at = mnmajor(5120, 512, 1024, 64, mn, k)
            img[at:at + 2] = np.array([hv(ah)[mn, k]], np.uint16).view(np.uint8)
    for mn in range(N):
        for k in range(16):  # B f16 MN-major at 7168: no swizzle, LBO 256, SBO 128
            at = mnmajor(7168, 256, 128, 0, mn, k)
            img[at:at + 2] = np.array([hv(bh)[mn, k]], np.uint16).view(np.uint8)
    frag = np.zeros((128, 12), np.uint32)
    for t in range(128):
        w, l = t // 32, t % 32
        for j in range(4):
            word = 0
            for p in range(4):  # the m64nNk32 A fragment
                row = 16 * w + l // 4 + 8 * (j % 2)
                col = 4 * (l % 4) + p + 16 * (j // 2)
                word |= int(ai[row, col].view(np.uint8)) << (8 * p)
            frag[t, j] = word
        for i in range(8):
            row, col = dcoord(t, i)
            frag[t, 4 + i] = np.uint32(di[row, col] & 0xffffffff)
    np.concatenate([img, frag.reshape(-1).view(np.uint8)]).tofile(d + "/in.bin")


def check(d):
    a8, b8, ai, bi, di, ah, bh = data()
    fa = np.vectorize(e4m3)(a8.astype(np.int64))
    fb = np.vectorize(e5m2)(b8.astype(np.int64))
    ref8 = (-(fa @ fb.T)).astype(np.float32)  # imm-scale-a = -1
    refi = np.clip(ai.astype(np.int64) @ bi.astype(np.int64).T + di,
                   -2**31, 2**31 - 1).astype(np.int64)
    refh = (ah.astype(np.float64) @ bh.astype(np.float64).T).astype(np.float32)
    out = np.fromfile(d + "/out.bin", np.uint32).reshape(128, 24)
    bad = 0
    sat = 0
    for t in range(128):
        for i in range(8):
            row, col = dcoord(t, i)
            got = (out[t, i].view(np.float32), np.int64(out[t, 8 + i].view(np.int32)),
                   out[t, 16 + i].view(np.float32))
            want = (ref8[row, col], refi[row, col], refh[row, col])
            sat += refi[row, col] == 2**31 - 1
            for name, g, w in zip(("e4m3.e5m2", "s8.u8", "f16 MN-major"), got, want):
                if g != w:
                    bad += 1
                    if bad < 5:
                        print("thread %d %s d%d: %r, want %r" % (t, name, i, g, w))
    print("OK: e4m3 x e5m2, satfinite s8 x u8 (%d saturated), transposed f16" % sat
          if not bad else "FAIL: %d elements" % bad)


{"gen": gen, "check": check}[sys.argv[1]](sys.argv[2])
