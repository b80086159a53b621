"""Runs bitwise.tl on the emulator; every element checked against numpy with
the language's shift rule: a count (taken as unsigned) of the element width
or more gives 0, or the sign fill for >> of a signed type."""
import sys

import numpy as np

sys.path.insert(0, sys.argv[1] + "/python")
import tilus  # noqa: E402


def shl(x, c, bits):
    c = c.astype(np.uint64) & ((1 << bits) - 1) if bits < 64 else c
    mask = (1 << bits) - 1
    xs = x.astype(np.int64).astype(np.uint64) & np.uint64(mask)
    out = np.where(c < bits, (xs << np.minimum(c, bits - 1).astype(np.uint64)) & np.uint64(mask), 0)
    return out.astype(np.uint64)


def shr(x, c, bits, signed):
    c = c.astype(np.int64).astype(np.uint64) & np.uint64((1 << bits) - 1)
    if signed:
        return (x.astype(np.int64) >> np.minimum(c, bits - 1).astype(np.int64))
    xs = x.astype(np.int64).astype(np.uint64) & np.uint64((1 << bits) - 1)
    return np.where(c < bits, xs >> np.minimum(c, bits - 1), 0)


def as_type(v, dtype):
    bits = np.dtype(dtype).itemsize * 8
    return (np.asarray(v).astype(np.int64).astype(np.uint64) & np.uint64((1 << bits) - 1)).astype(
        np.dtype(dtype).str.replace("i", "u")).view(dtype)


k = tilus.Device("emu").compile_file(sys.argv[2])
rng = np.random.default_rng(11)
n = 64
a = rng.integers(-2**31, 2**31, n).astype(np.int32)
b = rng.integers(-2**31, 2**31, n).astype(np.int32)
c = rng.integers(0, 256, n).astype(np.uint8)
d = rng.integers(-128, 128, n).astype(np.int8)
e = rng.integers(-2**15, 2**15, n).astype(np.int16)
f = rng.integers(0, 2**16, n).astype(np.uint16)
A, B, C, D, E, F = (v.copy() for v in (a, b, c, d, e, f))
k(a, b, c, d, e, f, n)

x, y = A[:32].astype(np.int64), B[:32].astype(np.int64)
ok = {}
exp_a = ((x & 255) | shl(x, np.full(32, 2), 32).astype(np.int64)) ^ ~shr(x, np.full(32, 1), 32, True)
ok["i32 & | ^ ~ << >>"] = np.array_equal(a[:32], as_type(exp_a, np.int32))
s = y & 63
exp_b = shl(x, s, 32).astype(np.int64) ^ shr(x, s, 32, True)
ok["i32 counts 0..63"] = np.array_equal(b[:32], as_type(exp_b, np.int32))
u = C[:32].astype(np.int64)
cu = (y & 15)
exp_c = shr(u, np.full(32, 3), 8, False).astype(np.int64) | (shl(u, cu, 8).astype(np.int64) ^ (u & 90))
ok["u8 (counts 0..15)"] = np.array_equal(c[:32], as_type(exp_c, np.uint8))
v = D[:32].astype(np.int64)
exp_d = shr(v, y & 15, 8, True) + shl(v, np.full(32, 1), 8).astype(np.int64)
ok["i8 arithmetic >> past the width"] = np.array_equal(d[:32], as_type(exp_d, np.int8))
w = E[:32].astype(np.int64)
ok["i16 ~ then >>"] = np.array_equal(e[:32], as_type(shr(~w, np.full(32, 4), 16, True), np.int16))
z = F[:32].astype(np.int64)
ok["u16 logical >> (counts 0..31)"] = np.array_equal(f[:32], as_type(shr(z, y & 31, 16, False), np.uint16))
kk = shr(shl(np.array([n]), np.array([3]), 32).astype(np.int64), np.array([1]), 32, True)
scalar = (kk ^ 5) & ~1 | shr(np.array([n]), np.array([40]), 32, True)
ok["scalars"] = np.array_equal(b[32:], as_type(np.full(32, scalar[0]), np.int32))
ok["untouched tails"] = all(np.array_equal(t[32:], T[32:]) for t, T in ((a, A), (c, C), (d, D), (e, E), (f, F)))
for name, good in ok.items():
    print(name + ":", bool(good))
