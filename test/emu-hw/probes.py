"""Hardware-truth probes for the PTX emulator (plain Python 3, no numpy).

  probes.py make-inputs
      writes inputs/*.bin (deterministic; committed)
  probes.py capture TILUS_RUN [OUT_DIR [NAME...]]
      runs every probe (or those named) on the GPU (tilus-run --device cuda)
      and writes OUT_DIR/NAME.bin (default: truth/ next to this script): the
      files to commit
  probes.py compare TILUS_RUN TRUTH_DIR WORK_DIR [NAME...]
      runs every probe (or those named) on the emulator and compares with TRUTH_DIR/NAME.bin:
      bit for bit except the .approx functions, which must agree within the
      PTX ISA's error bounds; prints 'OK: NAME' per probe or 'FAIL: ...'

A probe: a PTX file here, a kernel, a launch shape, an input file in inputs/
and the size of the one output buffer.
"""
import math
import os
import random
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# name: (kernel, grid, block, output bytes[, PTX file when not NAME.ptx])
PROBES = {
    "mma": ("mma_probe", 384, 32, 384 * 512),
    "ldmatrix": ("ldmatrix_probe", 1, 32, 32 * 32),
    "cvt": ("cvt_probe", 8, 128, 1024 * 48),
    "approx": ("approx_probe", 64, 128, 8192 * 32),
    # diverge.cu through nvcc: barriers and warp collectives in divergent code.
    "divbar": ("divbar_probe", 2, 128, 256 * 32, "divbar.ptx"),
    "vote": ("vote_probe", 2, 128, 256 * 32, "diverge.ptx"),
    "divsync": ("divsync_probe", 2, 128, 256 * 32, "diverge.ptx"),
    "divmisc": ("divmisc_probe", 2, 128, 256 * 32, "diverge.ptx"),
    # sm_90a: wgmma on matrix descriptors of every layout, and A in registers.
    "wgmma": ("wgmma_probe", 25, 128, 25 * 128 * 64, "wgmma.ptx"),
    "wgmma_rega": ("wgmma_rega_probe", 5, 128, 5 * 128 * 32, "wgmma.ptx"),
    # sm_90a: wgmma e4m3 x e5m2, .satfinite s8 x u8 and MN-major f16.
    "wgmma_forms": ("wgmma_forms_probe", 1, 128, 128 * 96, "wgmma_forms.ptx"),
}

F16_ONE = 0x3C00


def f32bits(x):
    return struct.unpack("<I", struct.pack("<f", x))[0]


def make_mma():
    """Cases 0-255: A one-hot (1.0 at lane c/8, register (c/2)%4, half c%2),
    B element j = j + 1 (exact in f16). Cases 256-383: B one-hot, A element
    j = j + 1. C = 0, so D shows where each element went."""
    words = []
    for c in range(384):
        a = [0] * 128
        b = [0] * 64
        if c < 256:
            lane, reg, half = c // 8, (c // 2) % 4, c % 2
            a[lane * 4 + reg] = F16_ONE << (16 * half)
            b = [f16_int(2 * j + 1) | (f16_int(2 * j + 2) << 16) for j in range(64)]
        else:
            k = c - 256
            lane, reg, half = k // 4, (k // 2) % 2, k % 2
            b[lane * 2 + reg] = F16_ONE << (16 * half)
            a = [f16_int((2 * j) % 512 + 1) | (f16_int((2 * j + 1) % 512 + 1) << 16)
                 for j in range(128)]
        words += a + b + [0] * 128
    return struct.pack("<%dI" % len(words), *words)


def f16_int(n):
    """The f16 bits of a small positive integer (exact up to 2048)."""
    e = n.bit_length() - 1
    return ((e + 15) << 10) | ((n << (10 - e)) & 0x3FF)


def make_ldmatrix():
    return struct.pack("<256H", *[(0x1000 + 37 * i) & 0xFFFF for i in range(256)])


def make_cvt():
    vals = [0x00000000, 0x80000000, 0x7F800000, 0xFF800000, 0x7FC00000,
            0x7F800001, 0xFFC12345, 0x00000001, 0x807FFFFF, 0x00800000]
    for x in [65504.0, 65519.0, 65520.0, 65536.0, 2.0 ** -24, 2.0 ** -25,
              3 * 2.0 ** -26, 2.0 ** -14, 2.0 ** -15 + 2.0 ** -25, 0.5, 1.5,
              2.5, -2.5, 3.5, 1.0 + 2.0 ** -11, 1.0 + 3 * 2.0 ** -11,
              2147483520.0, 2147483648.0, 4294967040.0, 4294967296.0,
              -1.0, -0.5, 1e-40, 3.3895314e38, 3.4028235e38]:
        vals += [f32bits(x), f32bits(-x)]
    vals += [0x7F7F8000, 0x7F7F7FFF, 0x3F808000, 0x3F818000, 0x3F807FFF,
             0x477FF000, 0x477FEFFF, 0x387FC000, 0x33000000, 0x33000001]
    # Halves pairs for f16/bf16 arithmetic: ties, overflow, subnormals.
    for lo, hi in [(0x7BFF, 0x7BFF), (0x3C00, 0x1400), (0x0001, 0x8001),
                   (0x7C00, 0xFC00), (0x7E00, 0x3C00), (0x3555, 0x3555),
                   (0x7F7F, 0x7F7F), (0x0080, 0x0001)]:
        vals.append(lo | (hi << 16))
    rng = random.Random(7)
    while len(vals) < 1024:
        vals.append(rng.getrandbits(32))
    return struct.pack("<1024I", *vals[:1024])


def make_approx():
    xs = []
    for i in range(2048):
        xs.append(-130.0 + 260.0 * i / 2047)          # ex2 range and beyond
    for i in range(2048):
        xs.append(2.0 ** (-140 + 267 * i / 2047))     # lg2/rcp/rsqrt/sqrt
    for i in range(2048):
        xs.append(-100 * math.pi + 200 * math.pi * i / 2047)  # sin/cos
    for i in range(2048):
        xs.append(-12.0 + 24.0 * i / 2047)            # tanh
    xs[:6] = [0.0, -0.0, math.inf, -math.inf, math.nan, -1.0]
    return struct.pack("<8192f", *xs)


def make_words256():
    """256 random 32-bit words (fixed seed), a few of them small."""
    rng = random.Random(20261204)
    words = [rng.getrandbits(32) for _ in range(256)]
    for i in range(0, 256, 37):
        words[i] = i & 3
    return struct.pack("<256I", *words)


# wgmma's K-major canonical layouts (the PTX ISA's matrix descriptors):
# (name, layout field, LBO, SBO, K byte offset inside a swizzled row).
WGMMA_LAYOUTS = [("none, K-adjacent core matrices", 0, 128, 256, 0),
                 ("none, row-adjacent core matrices", 0, None, 128, 0),
                 ("32-byte swizzle", 3, 16, 256, 0),
                 ("64-byte swizzle", 2, 16, 512, 32),
                 ("128-byte swizzle", 1, 16, 1024, 64)]


def wgmma_address(layout, rows, r, b):
    """The image byte of row r, K byte b of an operand at image offset 0."""
    _, mode, lbo, sbo, koff = layout
    if mode == 0:
        lbo = lbo if lbo is not None else rows // 8 * 128
        return r // 8 * sbo + r % 8 * 16 + b // 16 * lbo + b % 16
    span = 128 >> (mode - 1)
    a = koff + r // 8 * sbo + r % 8 * span + b
    chunk = ((a >> 4) & 7) ^ ((a >> 7) & (span // 16 - 1))
    return (a & ~0x70) | chunk << 4


def wgmma_descriptor(layout, rows, base):
    _, mode, lbo, sbo, koff = layout
    if lbo is None:
        lbo = rows // 8 * 128
    return ((base + koff) >> 4) | (lbo >> 4) << 16 | (sbo >> 4) << 32 | mode << 62


def wgmma_case(rng, a_layout, b_layout):
    """16 bytes of descriptors, then a 16 KiB image: A (64 x 16) at 0 or,
    without a_layout, as register fragments at 12288 (mma.m16n8k16's A on
    each warp's 16 rows); B (32 x 16, K-major) at 8192. Small integers, so
    every sum is exact; the bytes no operand covers hold other ones."""
    half = lambda v: struct.unpack("<H", struct.pack("<e", float(v)))[0]
    img = bytearray(struct.pack("<8192H", *[half(rng.randint(-4, 4))
                                             for _ in range(8192)]))
    put = lambda at, v: img.__setitem__(slice(at, at + 2),
                                        struct.pack("<H", half(v)))
    a = [[rng.randint(-4, 4) for _ in range(16)] for _ in range(64)]
    b = [[rng.randint(-4, 4) for _ in range(16)] for _ in range(32)]
    for n in range(32):
        for k in range(16):
            put(8192 + wgmma_address(b_layout, 32, n, 2 * k), b[n][k])
    if a_layout:
        for m in range(64):
            for k in range(16):
                put(wgmma_address(a_layout, 64, m, 2 * k), a[m][k])
    else:
        for t in range(128):
            w, l = t // 32, t % 32
            for e in range(8):
                row = 16 * w + l // 4 + 8 * ((e // 2) % 2)
                col = 2 * (l % 4) + e % 2 + 8 * (e // 4)
                put(12288 + 16 * t + 2 * e, a[row][col])
    da = wgmma_descriptor(a_layout, 64, 0) if a_layout else 0
    return struct.pack("<QQ", da, wgmma_descriptor(b_layout, 32, 8192)) + img


def make_wgmma():
    rng = random.Random(90)
    return b"".join(wgmma_case(rng, la, lb) for la in WGMMA_LAYOUTS
                    for lb in WGMMA_LAYOUTS)


def make_wgmma_rega():
    rng = random.Random(91)
    return b"".join(wgmma_case(rng, None, lb) for lb in WGMMA_LAYOUTS)


def make_wgmma_forms():
    """wgmma_forms.ptx's input: each operand's region of the shared image
    filled with codes of its type (any layout then reads only such codes),
    then per thread 4 A words (s8) and 8 D words (s32, every other one near
    INT32_MAX, so .satfinite clamps). The fp8 codes keep every sum exact
    (e4m3 exponent fields 0-9, e5m2 0-17, subnormals included) and the f16
    values are quarters, so the result is defined bit for bit."""
    rng = random.Random(92)
    img = bytearray(rng.getrandbits(8) for _ in range(7680))
    for i in range(0, 2048):  # A e4m3
        img[i] = rng.getrandbits(1) << 7 | rng.randrange(10) << 3 | rng.randrange(8)
    for i in range(2048, 2560):  # B e5m2
        img[i] = rng.getrandbits(1) << 7 | rng.randrange(18) << 2 | rng.randrange(4)
    half = lambda v: struct.pack("<e", float(v))
    for i in range(5120, 7680, 2):  # A and B f16
        img[i:i + 2] = half(rng.randint(-8, 8) / 4)
    words = []
    for t in range(128):
        words += [rng.getrandbits(32) for _ in range(4)]
        for i in range(8):
            d = 2**31 - 1 - rng.randrange(2**16) if i % 2 else rng.randrange(-2**20, 2**20)
            words.append(d & 0xffffffff)
    return bytes(img) + struct.pack("<%dI" % len(words), *words)


MAKERS = {"mma": make_mma, "ldmatrix": make_ldmatrix, "cvt": make_cvt,
          "approx": make_approx, "divbar": make_words256, "vote": make_words256,
          "divsync": make_words256, "divmisc": make_words256,
          "wgmma": make_wgmma, "wgmma_rega": make_wgmma_rega,
          "wgmma_forms": make_wgmma_forms}


def run_probe(tool, name, device, out_path):
    kernel, grid, block, out_bytes = PROBES[name][:4]
    ptx = PROBES[name][4] if len(PROBES[name]) > 4 else name + ".ptx"
    cmd = [tool, os.path.join(HERE, ptx), "--kernel", kernel,
           "--grid", str(grid), "--block", str(block), "--device", device,
           "--arg", "buf:" + os.path.join(HERE, "inputs", name + ".bin"),
           "--arg", "buf:zeros:%d" % out_bytes, "--dump", "1:" + out_path]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise RuntimeError("%s: %s" % (name, r.stderr.strip()))


# .approx error bounds from the PTX ISA (relative unless marked absolute),
# loosened by one bit for the emulator's own rounding.
BOUNDS = [("ex2", 2.0 ** -21, False), ("lg2", 2.0 ** -21, True),
          ("rcp", 2.0 ** -22, False), ("rsqrt", 2.0 ** -21, False),
          ("sqrt", 2.0 ** -21, False), ("sin", 2.0 ** -20, True),
          ("cos", 2.0 ** -20, True), ("tanh", 2.0 ** -10, False)]


def compare_approx(emu, hw):
    n = len(emu) // 4
    e = struct.unpack("<%df" % n, emu)
    h = struct.unpack("<%df" % n, hw)
    ok = True
    for f, (fname, bound, absolute) in enumerate(BOUNDS):
        worst, where = 0.0, -1
        for i in range(f, n, 8):
            a, b = e[i], h[i]
            if math.isnan(a) or math.isnan(b) or math.isinf(a) or math.isinf(b):
                if not (math.isnan(a) and math.isnan(b)) and a != b:
                    print("FAIL: approx %s element %d: emulator %r, hardware %r"
                          % (fname, i // 8, a, b))
                    ok = False
                continue
            err = abs(a - b) if absolute else abs(a - b) / max(abs(b), 1e-38)
            if absolute and fname == "lg2":
                err = min(err, abs(a - b) / max(abs(b), 1e-38))
            if err > worst:
                worst, where = err, i // 8
        if worst > bound:
            print("FAIL: approx %s: error %.3g at element %d exceeds %.3g"
                  % (fname, worst, where, bound))
            ok = False
    return ok


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "make-inputs":
        os.makedirs(os.path.join(HERE, "inputs"), exist_ok=True)
        for name, make in MAKERS.items():
            with open(os.path.join(HERE, "inputs", name + ".bin"), "wb") as f:
                f.write(make())
        return 0
    if mode == "capture" and len(sys.argv) >= 3:
        out = sys.argv[3] if len(sys.argv) >= 4 else os.path.join(HERE, "truth")
        names = sys.argv[4:] or list(PROBES)
        unknown = [n for n in names if n not in PROBES]
        if unknown:
            print("unknown probe: %s (probes: %s)" % (", ".join(unknown),
                                                       ", ".join(PROBES)),
                  file=sys.stderr)
            return 2
        os.makedirs(out, exist_ok=True)
        device = os.environ.get("TILUS_HW_DEVICE", "cuda")
        status = 0
        for name in names:
            try:
                run_probe(sys.argv[2], name, device, os.path.join(out, name + ".bin"))
                print("captured " + os.path.join(out, name + ".bin"))
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                print("FAIL: %s" % e)
                status = 1
        return status
    if mode == "compare" and len(sys.argv) >= 5:
        tool, truth, work = sys.argv[2:5]
        names = sys.argv[5:] or list(PROBES)
        os.makedirs(work, exist_ok=True)
        failed = False
        for name in names:
            if not os.path.exists(os.path.join(truth, name + ".bin")):
                print("NOT RECORDED: %s (no hardware truth yet)" % name)
                continue
            path = os.path.join(work, name + ".bin")
            try:
                run_probe(tool, name, "emu", path)
            except (RuntimeError, subprocess.TimeoutExpired) as e:
                print("FAIL: %s" % e)
                failed = True
                continue
            emu = open(path, "rb").read()
            hw = open(os.path.join(truth, name + ".bin"), "rb").read()
            if len(emu) != len(hw):
                print("FAIL: %s: %d bytes, hardware %d" % (name, len(emu), len(hw)))
                failed = True
            elif name == "approx":
                if compare_approx(emu, hw):
                    print("OK: approx")
                else:
                    failed = True
            elif emu != hw:
                words = [(i, a, b) for i, (a, b) in enumerate(zip(
                    struct.unpack("<%dI" % (len(emu) // 4), emu),
                    struct.unpack("<%dI" % (len(hw) // 4), hw))) if a != b]
                print("FAIL: %s: %d words differ; first at word %d: emulator "
                      "0x%08x, hardware 0x%08x" % (name, len(words), *words[0]))
                failed = True
            else:
                print("OK: " + name)
        return 1 if failed else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
