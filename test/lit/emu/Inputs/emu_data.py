"""Makes input files for the tilus-run tests and checks the dumped outputs
against host references (standard library only)."""
import math
import random
import struct
import sys


def f32(x):
    """Rounds a Python float to the nearest float32."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def read(path, fmt):
    data = open(path, "rb").read()
    n = len(data) // struct.calcsize(fmt)
    return list(struct.unpack("<%d%s" % (n, fmt), data))


def write(path, fmt, values):
    open(path, "wb").write(struct.pack("<%d%s" % (len(values), fmt), *values))


def make(d, n, seed):
    rng = random.Random(seed)
    write(d + "/x.bin", "f", [f32(rng.uniform(-100, 100)) for _ in range(n)])
    write(d + "/y.bin", "f", [f32(rng.uniform(-100, 100)) for _ in range(n)])
    write(d + "/i.bin", "i", [rng.randint(-2**31, 2**31 - 1) for _ in range(n)])


def make_more(d, n, seed):
    rng = random.Random(seed)
    write(d + "/x4.bin", "f", [f32(rng.uniform(-50, 50)) for _ in range(4 * n)])
    open(d + "/b.bin", "wb").write(bytes(rng.randrange(256) for _ in range(n)))
    write(d + "/m.bin", "f", [-1e30])


def fail(msg):
    print("MISMATCH: " + msg)
    sys.exit(1)


def check_vector_add(d, n):
    x, y, z = read(d + "/x.bin", "f"), read(d + "/y.bin", "f"), read(d + "/out.bin", "f")
    for i in range(n):
        if z[i] != f32(x[i] + y[i]):
            fail("element %d: %r != %r + %r" % (i, z[i], x[i], y[i]))
    print("OK: %d sums" % n)


def check_block_sum(d, blocks, threads):
    x, out = read(d + "/x.bin", "f"), read(d + "/out.bin", "f")
    for b in range(blocks):
        # The kernel's tree order: s = threads/2, threads/4, ...
        v = x[b * threads:(b + 1) * threads]
        s = threads // 2
        while s:
            v = [f32(v[t] + v[t + s]) for t in range(s)] + v[s:]
            s //= 2
        if out[b] != v[0]:
            fail("block %d: %r != %r" % (b, out[b], v[0]))
    print("OK: %d blocks" % blocks)


def half_bits(x):
    return struct.unpack("<H", struct.pack("<e", x))[0] if abs(x) < 65520 else (
        0x7C00 | (0x8000 if x < 0 else 0))


def check_mix(d, n):
    x, iv = read(d + "/x.bin", "f"), read(d + "/i.bin", "i")
    out = open(d + "/out.bin", "rb").read()
    for t in range(n):
        rec = out[32 * t:32 * t + 32]
        fs = struct.unpack("<8f", rec)
        us = struct.unpack("<8I", rec)
        ss = struct.unpack("<8i", rec)
        a, k = x[t], iv[t]
        q = int(k / 7) if k >= 0 else -int(-k / 7)
        q = abs(k) // 7 * (1 if k >= 0 else -1)
        want_f = [f32(a / 3.0), f32(math.sqrt(abs(a)))]
        if list(fs[:2]) != want_f:
            fail("thread %d: div/sqrt %r != %r" % (t, fs[:2], want_f))
        if ss[2] != q or ss[3] != k - 7 * q:
            fail("thread %d: sdiv/srem of %d: %d %d" % (t, k, ss[2], ss[3]))
        if us[4] != half_bits(a):
            fail("thread %d: half of %r: %x" % (t, a, us[4]))
        if fs[5] != f32(min(a, 0.5) + f32(float(k))):
            fail("thread %d: min+cvt %r" % (t, fs[5]))
        u = k & 0xFFFFFFFF
        clz = 32 - u.bit_length()
        if us[6] != (bin(u).count("1") << 6) + clz:
            fail("thread %d: popc/clz of %x" % (t, u))
        if ss[7] != iv[t ^ 1]:
            fail("thread %d: shuffle %d != %d" % (t, ss[7], iv[t ^ 1]))
    counter = read(d + "/counter.bin", "I")[0]
    if counter != n:
        fail("counter %d != %d" % (counter, n))
    print("OK: %d threads" % n)


def half(x):
    return struct.unpack("<e", struct.pack("<e", x))[0]


def check_more(d, n):
    x, b = read(d + "/x4.bin", "f"), open(d + "/b.bin", "rb").read()
    out = open(d + "/out.bin", "rb").read()
    for t in range(n):
        v = x[4 * t:4 * t + 4]
        hf, lv, u = struct.unpack("<fII", out[16 * t:16 * t + 12])
        want = half(half(half(v[0]) * half(v[1])) + half(v[2]))
        if hf != want:
            fail("thread %d: half arithmetic %r != %r" % (t, hf, want))
        if lv != (b[t] & 7) * b[t]:
            fail("thread %d: local array %d" % (t, lv))
        if u != int(abs(v[3])):
            fail("thread %d: fptoui %d" % (t, u))
    m = read(d + "/maxv.bin", "f")[0]
    if m != max(x[4 * t] for t in range(n)):
        fail("max %r" % m)
    print("OK: %d threads" % n)


def check_switch(d, n):
    out = read(d + "/out.bin", "I")
    table = [10, 21, 32, 43, 54, 65, 99, 99]
    for t in range(n):
        if out[t] != table[t % 8]:
            fail("thread %d: %d" % (t, out[t]))
    print("OK: %d threads" % n)


def check_saxpy(d, n, a):
    x, y, out = read(d + "/x.bin", "f"), read(d + "/y.bin", "f"), read(d + "/out.bin", "f")
    for i in range(n):
        # fma: one rounding of the exact a*x+y (exact in double here: the
        # product has 48 bits and both terms are within 2^14 of each other).
        want = f32(a * x[i] + y[i])
        if out[i] != want:
            fail("element %d: %r != %r" % (i, out[i], want))
    print("OK: %d saxpy" % n)


def check_transpose(d, n):
    x, out = read(d + "/x.bin", "f"), read(d + "/out.bin", "f")
    for r in range(n):
        for c in range(n):
            if out[c * n + r] != x[r * n + c]:
                fail("(%d, %d)" % (r, c))
    print("OK: %dx%d transposed" % (n, n))


if __name__ == "__main__":
    cmd, d = sys.argv[1], sys.argv[2]
    args = [int(v) if v.lstrip("-").isdigit() else float(v) for v in sys.argv[3:]]
    {"make": make, "vector_add": check_vector_add, "block_sum": check_block_sum,
     "mix": check_mix, "switch": check_switch, "make_more": make_more, "more": check_more, "saxpy": check_saxpy, "transpose": check_transpose}[cmd](d, *args)
