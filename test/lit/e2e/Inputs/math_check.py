"""Elementwise functions, comparisons, where and binary operations on the
emulator against numpy, every element checked.

Each case is one kernel: it loads its operands as 1-d tiles of 256 elements
(layout local(2).spatial(128), four warps; the last tile partly outside the
tensors), applies one instruction and stores the result. Inputs are random.

usage: math_check.py WORKDIR unary|cmp|binary
"""

import math
import os
import subprocess
import sys

import numpy as np

N = 1000
TILE = 256
LAYOUT = '#tilus.layout<"local(2).spatial(128)">'
rng = np.random.default_rng(7)


def bits_of(name):
    if name == "bool":
        return 8
    if name in ("f16", "bf16"):
        return 16
    if name == "f32":
        return 32
    if name[0] in "iu":
        return int(name[1:])
    return int(name[1:name.index("e")])


def mlir_type(name):
    if name == "bool":
        return "i1"
    if name in ("i8", "i16", "i32", "i64", "f16", "bf16", "f32"):
        return name
    return "!tilus." + name


def tile(name):
    return f"!tilus.tile<{TILE}x{mlir_type(name)}, {LAYOUT}>"


def pack(codes, bits):
    if bits % 8 == 0:
        dtype = {8: np.uint8, 16: np.uint16, 32: np.uint32, 64: np.uint64}[bits]
        data = np.asarray(codes).astype(dtype).tobytes()
    else:
        total = 0
        for i, c in enumerate(codes):
            total |= int(c) << (i * bits)
        data = total.to_bytes((len(codes) * bits + 7) // 8, "little")
    return data.ljust((len(data) + 3) // 4 * 4, b"\0")


def unpack(data, count, bits):
    if bits % 8 == 0:
        dtype = {8: np.uint8, 16: np.uint16, 32: np.uint32, 64: np.uint64}[bits]
        return np.frombuffer(data, dtype=dtype)[:count].astype(np.uint64)
    total = int.from_bytes(data, "little")
    mask = (1 << bits) - 1
    return np.array([(total >> (i * bits)) & mask for i in range(count)],
                    dtype=np.uint64)


def signed(codes, bits):
    codes = codes.astype(np.int64)
    return np.where(codes >= 1 << (bits - 1), codes - (1 << bits), codes)


def as_float(codes, name):
    if name == "f32":
        return codes.astype(np.uint32).view(np.float32)
    if name == "f16":
        return codes.astype(np.uint16).view(np.float16)
    raise ValueError(name)


def float_codes(values, name):
    if name == "f32":
        return np.asarray(values, np.float32).view(np.uint32).astype(np.uint64)
    return np.asarray(values, np.float16).view(np.uint16).astype(np.uint64)


def run_case(work, label, body, inputs, out_type):
    """Runs `body` (MLIR lines using %a, %b, %c tiles and defining %r) on the
    input codes; returns the output codes."""
    d = os.path.join(work, label)
    os.makedirs(d, exist_ok=True)
    names = "abc"[:len(inputs)]
    params = [f"%p{n}: !llvm.ptr<1>" for n in names] + \
        ["%po: !llvm.ptr<1>", "%n: i32"]
    lines = [f"func.func @k({', '.join(params)})",
             '    attributes {tilus.kernel, tilus.num_warps = 4 : i32, '
             'tilus.grid = ["1", "1", "1"]} {',
             "  %bx = tilus.block_idx 0 : i32",
             f"  %t = arith.constant {TILE} : i32",
             "  %off = arith.muli %bx, %t : i32"]
    for n, (ty, _) in zip(names, inputs):
        g = f"!tilus.global<?x{mlir_type(ty)}>"
        lines += [f"  %g{n} = tilus.global_view %p{n}[%n] : !llvm.ptr<1>, i32 -> {g}",
                  f"  %{n} = tilus.load_global %g{n}[%off] : {g}, i32 -> {tile(ty)}"]
    go = f"!tilus.global<?x{mlir_type(out_type)}>"
    lines += ["  " + line for line in body]
    lines += [f"  %go = tilus.global_view %po[%n] : !llvm.ptr<1>, i32 -> {go}",
              f"  tilus.store_global %r, %go[%off] : {tile(out_type)}, {go}, i32",
              "  return", "}"]
    src = os.path.join(d, "k.mlir")
    with open(src, "w") as f:
        f.write("\n".join(lines) + "\n")
    subprocess.run(["tilusc", src, "-o", os.path.join(d, "k.ptx")], check=True)
    args = []
    for n, (ty, codes) in zip(names, inputs):
        path = os.path.join(d, n + ".bin")
        with open(path, "wb") as f:
            f.write(pack(codes, bits_of(ty)))
        args += ["--arg", "buf:" + path]
    out_bytes = len(pack(np.zeros(N, np.uint64), bits_of(out_type)))
    args += ["--arg", f"buf:zeros:{out_bytes}", "--arg", f"i32:{N}"]
    out = os.path.join(d, "out.bin")
    subprocess.run(["tilus-run", os.path.join(d, "k.ptx"), "--kernel", "k",
                    "--grid", str((N + TILE - 1) // TILE), "--block", "128"] +
                   args + ["--dump", f"{len(inputs)}:{out}"], check=True)
    with open(out, "rb") as f:
        return unpack(f.read(), N, bits_of(out_type))


failures = []
checked = 0


def expect(label, ok, got, want, inputs):
    global checked
    checked += 1
    bad = np.nonzero(~ok)[0]
    for i in bad[:5]:
        failures.append(f"{label}[{i}]: inputs {[x[i] for x in inputs]} "
                        f"got {got[i]} want {want[i]}")
    if len(bad) > 5:
        failures.append(f"{label}: {len(bad)} mismatches")


def random_f32(lo, hi):
    return rng.uniform(lo, hi, N).astype(np.float32)


def unary(work):
    f32 = np.float32
    # (function, input range, reference, relative bound, absolute bound)
    approx = [
        ("exp", (-20, 20), np.exp, None, None),
        ("exp2", (-30, 30), np.exp2, 2.0 ** -21, 0),
        ("log", (1e-6, 1e6), np.log, 2.0 ** -21, 2.0 ** -21),
        ("log2", (1e-6, 1e6), np.log2, 2.0 ** -21, 2.0 ** -21),
        ("sqrt", (0, 1e6), np.sqrt, 0, 0),
        ("rsqrt", (1e-6, 1e6), lambda x: 1 / np.sqrt(x), 2.0 ** -22, 0),
        ("tanh", (-6, 6), np.tanh, 2.0 ** -10.9, 0),
        ("sin", (-math.pi, math.pi), np.sin, 0, 2.0 ** -20.5),
        ("cos", (-math.pi, math.pi), np.cos, 0, 2.0 ** -20.5),
        ("round", (-100, 100), np.rint, 0, 0),
        ("floor", (-100, 100), np.floor, 0, 0),
        ("ceil", (-100, 100), np.ceil, 0, 0),
        ("neg", (-1e6, 1e6), np.negative, 0, 0),
        ("abs", (-1e6, 1e6), np.abs, 0, 0),
    ]
    for kind, (lo, hi), ref, rel, absb in approx:
        x = random_f32(lo, hi)
        if kind in ("round", "floor", "ceil"):
            x[:50] = np.arange(-25, 25) + 0.5  # ties
        got = as_float(run_case(work, f"{kind}_f32",
                                [f"%r = tilus.unary {kind} %a : {tile('f32')}"],
                                [("f32", float_codes(x, "f32"))], "f32"), "f32")
        want = ref(x.astype(np.float64))
        if kind == "exp":
            # ex2(x * log2e): the rounding of the product adds |x| ulps.
            bound = np.abs(want) * (2.0 ** -21 + np.abs(x) * 2.0 ** -23)
        elif kind == "sqrt":
            want = np.sqrt(x)
            bound = np.zeros(N)
        else:
            bound = np.abs(want) * rel + absb
        err = np.abs(got.astype(np.float64) - want)
        expect(f"{kind} f32", err <= bound, got, want, [x])

    # f16: computed in f32 and rounded once to f16.
    for kind, (lo, hi), ref, exact in [("exp", (-8, 8), np.exp, False),
                                       ("sqrt", (0, 1000), np.sqrt, True),
                                       ("floor", (-100, 100), np.floor, True),
                                       ("neg", (-100, 100), np.negative, True),
                                       ("abs", (-100, 100), np.abs, True)]:
        x = random_f32(lo, hi).astype(np.float16)
        got = as_float(run_case(work, f"{kind}_f16",
                                [f"%r = tilus.unary {kind} %a : {tile('f16')}"],
                                [("f16", float_codes(x, "f16"))], "f16"), "f16")
        want = ref(x.astype(np.float32)).astype(np.float16)
        if exact:
            ok = got.view(np.uint16) == want.view(np.uint16)
        else:
            ok = np.abs(got.astype(np.float64) - want) <= \
                np.abs(want.astype(np.float64)) * 2.0 ** -10
        expect(f"{kind} f16", ok, got, want, [x])

    # Sign bit of small floats, NaN codes included.
    for ty, bits in (("f8e4m3", 8), ("f4e2m1", 4)):
        codes = rng.integers(0, 1 << bits, N).astype(np.uint64)
        sign = 1 << (bits - 1)
        for kind, want in (("neg", codes ^ sign), ("abs", codes & (sign - 1))):
            got = run_case(work, f"{kind}_{ty}",
                           [f"%r = tilus.unary {kind} %a : {tile(ty)}"],
                           [(ty, codes)], ty)
            expect(f"{kind} {ty}", got == want, got, want, [codes])

    # Integers: two's complement, wrapping at the type's width.
    for ty in ("i32", "i8", "u8", "i4", "u3"):
        bits = bits_of(ty)
        mask = (1 << bits) - 1
        codes = rng.integers(0, 1 << bits, N).astype(np.uint64)
        v = signed(codes, bits) if ty[0] == "i" else codes.astype(np.int64)
        for kind, ref in (("neg", lambda v: -v), ("abs", np.abs),
                          ("not", lambda v: ~v)):
            if kind == "abs" and ty[0] == "u":
                ref = lambda v: v
            want = (ref(v) & mask).astype(np.uint64)
            got = run_case(work, f"{kind}_{ty}",
                           [f"%r = tilus.unary {kind} %a : {tile(ty)}"],
                           [(ty, codes)], ty)
            expect(f"{kind} {ty}", got == want, got, want, [codes])

    # bool: any nonzero byte is true; not gives 0 or 1.
    codes = rng.integers(0, 256, N).astype(np.uint64)
    codes[:100] = 0
    got = run_case(work, "not_bool",
                   [f"%r = tilus.unary not %a : {tile('bool')}"],
                   [("bool", codes)], "bool")
    want = (codes == 0).astype(np.uint64)
    expect("not bool", got == want, got, want, [codes])


def cmp(work):
    preds = {"eq": np.equal, "ne": np.not_equal, "lt": np.less,
             "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal}
    for ty in ("f32", "f16", "i32", "u32", "i4", "u4", "u8"):
        bits = bits_of(ty)
        if ty[0] == "f":
            a = random_f32(-10, 10).astype(np.float16 if ty == "f16" else np.float32)
            b = np.where(rng.random(N) < 0.3, a, random_f32(-10, 10)).astype(a.dtype)
            a[rng.random(N) < 0.05] = np.nan
            b[rng.random(N) < 0.05] = np.nan
            a[:4] = [0.0, -0.0, np.inf, -np.inf]
            b[:4] = [-0.0, 0.0, np.inf, 1.0]
            ac, bc, av, bv = float_codes(a, ty), float_codes(b, ty), a, b
        else:
            ac = rng.integers(0, 1 << bits, N).astype(np.uint64)
            bc = np.where(rng.random(N) < 0.3, ac,
                          rng.integers(0, 1 << bits, N)).astype(np.uint64)
            sign = ty[0] == "i"
            av = signed(ac, bits) if sign else ac.astype(np.int64)
            bv = signed(bc, bits) if sign else bc.astype(np.int64)
        for p, ref in preds.items():
            got = run_case(work, f"cmp_{p}_{ty}",
                           [f"%r = tilus.cmp {p} %a, %b : {tile(ty)} -> {tile('bool')}"],
                           [(ty, ac), (ty, bc)], "bool")
            want = ref(av, bv).astype(np.uint64)
            expect(f"cmp {p} {ty}", got == want, got, want, [av, bv])
    # where, with the condition computed in the kernel.
    for ty in ("f32", "i4", "f8e4m3"):
        bits = bits_of(ty)
        ac = rng.integers(0, 1 << bits, N).astype(np.uint64)
        bc = rng.integers(0, 1 << bits, N).astype(np.uint64)
        cc = rng.integers(0, 256, N).astype(np.uint64)
        got = run_case(work, f"where_{ty}",
                       [f"%z = arith.constant 0 : i8",
                        f"%zt = tilus.full %z : i8 -> {tile('i8')}",
                        f"%m = tilus.cmp gt %c, %zt : {tile('i8')} -> {tile('bool')}",
                        f"%r = tilus.where %m, %a, %b : {tile('bool')}, {tile(ty)}"],
                       [(ty, ac), (ty, bc), ("i8", cc)], ty)
        want = np.where(signed(cc, 8) > 0, ac, bc)
        expect(f"where {ty}", got == want, got, want, [ac, bc, cc])


def binary(work):
    # Floats: min/max propagate NaN; rem has the dividend's sign.
    for ty in ("f32", "f16"):
        dt = np.float32 if ty == "f32" else np.float16
        a = random_f32(-100, 100).astype(dt)
        b = random_f32(-10, 10).astype(dt)
        b[np.abs(b) < 0.5] = dt(0.75)
        for kind, ref in (("min", np.minimum), ("max", np.maximum),
                          ("rem", np.fmod)):
            aa, bb = a.copy(), b.copy()
            if kind != "rem":
                aa[rng.random(N) < 0.05] = np.nan
                bb[rng.random(N) < 0.05] = np.nan
            got = as_float(run_case(work, f"{kind}_{ty}",
                                    [f"%r = tilus.{kind} %a, %b : {tile(ty)}"],
                                    [(ty, float_codes(aa, ty)),
                                     (ty, float_codes(bb, ty))], ty), ty)
            want = ref(aa, bb)
            if kind == "rem" and ty == "f32":
                ok = np.abs(got.astype(np.float64) - want) <= \
                    np.abs(aa.astype(np.float64)) * 2.0 ** -22
            else:
                ok = (got.view(np.uint16 if ty == "f16" else np.uint32) ==
                      want.view(np.uint16 if ty == "f16" else np.uint32)) | \
                    (np.isnan(got) & np.isnan(want))
            expect(f"{kind} {ty}", ok, got, want, [aa, bb])
    small = rng.integers(0, 256, N).astype(np.uint64)
    got = as_float(run_case(work, "max_f8e4m3_f32",
                            ["%x = tilus.max %a, %b : " + tile("f8e4m3"),
                             "%r = tilus.cast %x : " + tile("f8e4m3") + " -> " +
                             tile("f32")],
                            [("f8e4m3", small), ("f8e4m3", small ^ 0x80)],
                            "f32"), "f32")
    # max(x, -x) is |x| (NaN stays NaN): decode the f8e4m3 code by hand.
    mag = (small & 0x7f).astype(np.int64)
    e, m = mag >> 3, mag & 7
    want = np.where(e == 0, m / 8 * 2.0 ** -6, (1 + m / 8) * 2.0 ** (e - 7))
    want = np.where(mag == 0x7f, np.nan, want)
    ok = (got == want) | (np.isnan(got) & np.isnan(want))
    expect("max f8e4m3", ok, got, want, [small])

    # Integers: C semantics for rem (sign of the dividend), wrap to the width.
    for ty in ("i32", "u32", "i8", "u8", "i4", "u4", "u3", "bool"):
        bits = 1 if ty == "bool" else bits_of(ty)
        mask = (1 << bits) - 1
        ac = rng.integers(0, 1 << bits, N).astype(np.uint64)
        bc = rng.integers(0, 1 << bits, N).astype(np.uint64)
        sign = ty[0] == "i"
        av = signed(ac, bits) if sign else ac.astype(np.int64)
        bv = signed(bc, bits) if sign else bc.astype(np.int64)
        kinds = {"and": np.bitwise_and, "or": np.bitwise_or,
                 "xor": np.bitwise_xor}
        if ty != "bool":
            bv = np.where(bv == 0, 1, bv)
            bc = (bv & mask).astype(np.uint64)
            kinds.update({"min": np.minimum, "max": np.maximum,
                          "rem": lambda x, y: np.fmod(x, y)})
        for kind, ref in kinds.items():
            got = run_case(work, f"{kind}_{ty}",
                           [f"%r = tilus.{kind} %a, %b : {tile(ty)}"],
                           [(ty, ac), (ty, bc)], ty)
            want = (ref(av, bv) & mask).astype(np.uint64)
            expect(f"{kind} {ty}", got == want, got, want, [av, bv])


def view_case(work, label, src, dst, body_extra, want_fn):
    """Loads `src` with layout spatial(128).local(L), views it as `dst` with
    the matching local count, and stores it with that layout."""
    global N
    saved = N
    sbits, dbits = bits_of(src), bits_of(dst)
    per_thread = 48  # bits per thread: a multiple of 3, 4, 8, 16
    sl, dl = per_thread // sbits, per_thread // dbits
    N = 128 * sl
    codes = rng.integers(0, 1 << sbits, N).astype(np.uint64)
    lay_s = f'#tilus.layout<"spatial(128).local({sl})">'
    lay_d = f'#tilus.layout<"spatial(128).local({dl})">'
    ts = f"!tilus.tile<{N}x{mlir_type(src)}, {lay_s}>"
    n_out = 128 * dl
    td = f"!tilus.tile<{n_out}x{mlir_type(dst)}, {lay_d}>"
    d = os.path.join(work, label)
    os.makedirs(d, exist_ok=True)
    lines = ["func.func @k(%pa: !llvm.ptr<1>, %po: !llvm.ptr<1>)",
             '    attributes {tilus.kernel, tilus.num_warps = 4 : i32, '
             'tilus.grid = ["1", "1", "1"]} {',
             "  %c0 = arith.constant 0 : i32",
             f"  %ga = tilus.global_view %pa[] : !llvm.ptr<1> -> !tilus.global<{N}x{mlir_type(src)}>",
             f"  %a = tilus.load_global %ga[%c0] : !tilus.global<{N}x{mlir_type(src)}>, i32 -> {ts}",
             f"  %v = tilus.view %a : {ts} -> {td}"] + \
        ["  " + line.format(td=td) for line in body_extra] + [
             f"  %go = tilus.global_view %po[] : !llvm.ptr<1> -> !tilus.global<{n_out}x{mlir_type(dst)}>",
             f"  tilus.store_global %r, %go[%c0] : {td}, !tilus.global<{n_out}x{mlir_type(dst)}>, i32",
             "  return", "}"]
    with open(os.path.join(d, "k.mlir"), "w") as f:
        f.write("\n".join(lines) + "\n")
    subprocess.run(["tilusc", os.path.join(d, "k.mlir"), "-o",
                    os.path.join(d, "k.ptx")], check=True)
    with open(os.path.join(d, "a.bin"), "wb") as f:
        f.write(pack(codes, sbits))
    out = os.path.join(d, "out.bin")
    out_bytes = len(pack(np.zeros(n_out, np.uint64), dbits))
    subprocess.run(["tilus-run", os.path.join(d, "k.ptx"), "--kernel", "k",
                    "--grid", "1", "--block", "128",
                    "--arg", "buf:" + os.path.join(d, "a.bin"),
                    "--arg", f"buf:zeros:{out_bytes}", "--dump", f"1:{out}"],
                   check=True)
    with open(out, "rb") as f:
        got = unpack(f.read(), n_out, dbits)
    # The bit stream of the source, read as codes of the result type.
    stream = unpack(pack(codes, sbits), n_out, dbits)
    want = want_fn(stream).astype(np.uint64)
    expect(f"view {src} -> {dst}", got == want, got, want, [stream])
    N = saved


def view(work):
    same = lambda s: s
    # Each thread's bits are consecutive in memory here, so a view that is
    # stored again reproduces the source bit stream.
    for src, dst in (("u8", "u4"), ("u4", "u8"), ("u4", "u3"), ("u3", "u4"),
                     ("i8", "f16"), ("f16", "u4"), ("u8", "f8e4m3"),
                     ("u2", "u16"), ("u16", "i2"), ("f6e3m2", "u8")):
        view_case(work, f"view_{src}_{dst}", src, dst,
                  ["%r = tilus.view %v : {td} -> {td}"], same)
    # Arithmetic on the viewed registers: u8 bytes as little-endian u16.
    view_case(work, "view_u8_u16_add", "u8", "u16",
              ["%r = tilus.add %v, %v : {td}"],
              lambda s: (s * 2) & 0xffff)
    # bool: one byte per element, any nonzero byte is true.
    view_case(work, "view_u8_bool", "u8", "bool",
              ["%r = tilus.view %v : {td} -> {td}"], lambda s: s != 0)


def main():
    work, group = sys.argv[1], sys.argv[2]
    {"unary": unary, "cmp": cmp, "binary": binary, "view": view}[group](work)
    for line in failures[:40]:
        print("FAIL:", line)
    if failures:
        sys.exit(1)
    print(f"OK: {checked} {group} cases, every element as expected")


if __name__ == "__main__":
    main()
