"""Exhaustive check of `tilus.cast` for every element type of at most 8 bits.

For each type T (bool, i1..i8, u1..u8, every small float) one kernel:
  - loads every code of T (shuffled, from a densely packed LSB-first buffer),
    casts it to f16, bf16 and f32 and stores the three results;
  - loads a sweep of f32 values (the values of T, the midpoints between
    neighbouring values and their f32 neighbours, specials, random values),
    casts them to T and stores them packed.
The kernel runs on the emulator (tilus-run) and every output code must equal
the dtype library's conversion as printed by `tilus-dtype`.

With --wide, the sources are the wider types instead (every f16 and bf16
code; edge and random values of f32, i8..i64, u16..u64), each cast to a set
of targets of every kind.

usage: cast_check.py WORKDIR [TYPE...]
       cast_check.py WORKDIR --wide
"""

import os
import subprocess
import sys

import numpy as np

TILE = 256
WARPS = 4
LOAD_LAYOUT = "spatial(128).local(2)"
STORE_LAYOUT = "local(2).spatial(128)"


def bits_of(name):
    if name == "bool":
        return 8
    if name[0] in "iu":
        return int(name[1:])
    return int(name[1:name.index("e")])


def mlir_type(name):
    if name == "bool":
        return "i1"
    if name in ("i8", "i16", "i32", "i64", "f16", "bf16", "f32"):
        return name
    return "!tilus." + name


def small_types():
    names = subprocess.run(["tilus-dtype", "--list"], check=True,
                           capture_output=True, text=True).stdout.split()
    return [n for n in names if n not in ("f16", "bf16", "f32") and
            bits_of(n) <= 8]


WHOLE = {8: np.uint8, 16: np.uint16, 32: np.uint32, 64: np.uint64}


def pack(codes, bits):
    if bits in WHOLE:
        return np.array(codes, dtype=np.uint64).astype(WHOLE[bits]).tobytes()
    total = 0
    for i, c in enumerate(codes):
        total |= int(c) << (i * bits)
    size = (len(codes) * bits + 7) // 8
    return total.to_bytes(size, "little")


def unpack(data, count, bits):
    if bits in WHOLE:
        return [int(v) for v in np.frombuffer(data, WHOLE[bits])[:count]]
    total = int.from_bytes(data, "little")
    mask = (1 << bits) - 1
    return [(total >> (i * bits)) & mask for i in range(count)]


def padded(size):
    return max(4, (size + 3) // 4 * 4)


def dtype_table(name):
    out = subprocess.run(["tilus-dtype", name, "--format=csv"], check=True,
                         capture_output=True, text=True).stdout
    table = {}
    for line in out.splitlines()[1:]:
        code, _, value = line.split(",")
        table[int(code)] = value
    return table


def convert(to, source, values):
    """tilus-dtype's code of each decimal value of `source` in `to`."""
    result = {}
    unique = sorted(set(values))
    for start in range(0, len(unique), 2000):
        chunk = unique[start:start + 2000]
        out = subprocess.run(["tilus-dtype", to, "--from", source] + chunk,
                             check=True, capture_output=True,
                             text=True).stdout
        for line in out.splitlines()[1:]:
            text, code, _ = line.split(",")
            result[text] = int(code)
    return [result[v] for v in values]


def f32_text(x):
    x = float(np.float32(x))
    if np.isnan(x):
        return "nan"
    if np.isinf(x):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "-0" if np.signbit(x) else "0"
    return repr(x)


def sweep(name, table, rng):
    """f32 inputs for the cast to `name`."""
    values = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e30, -1e30,
              3.4028234663852886e38, -3.4028234663852886e38, 1e-40, -1e-40,
              0.1, -0.7, 1.0, 255.5, -128.5, 300.0, 1e10, -1e10]
    finite = sorted({float(v) for v in table.values()
                     if v not in ("nan", "inf", "-inf")})
    values += finite + [-v for v in finite]
    for lo, hi in zip(finite, finite[1:]):
        mid = np.float32((lo + hi) / 2)
        values += [mid, np.nextafter(mid, np.float32(np.inf)),
                   np.nextafter(mid, np.float32(-np.inf))]
        values += [-mid]
    top = max(abs(v) for v in finite) if finite else 1.0
    values += list(rng.uniform(-1.5 * top, 1.5 * top, 400))
    values += list(rng.choice([-1, 1], 200) *
                   np.exp2(rng.uniform(-20, np.log2(top) + 2, 200)))
    array = np.array(values, dtype=np.float32)
    return array[rng.permutation(len(array))]


def kernel(name):
    t = mlir_type(name)
    lt = f'#tilus.layout<"{LOAD_LAYOUT}">'
    st = f'#tilus.layout<"{STORE_LAYOUT}">'

    def tile(elem, layout):
        return f"!tilus.tile<{TILE}x{elem}, {layout}>"

    lines = [
        "func.func @cast_kernel(%pc: !llvm.ptr<1>, %n: i32, %p16: !llvm.ptr<1>, "
        "%pbf: !llvm.ptr<1>, %p32: !llvm.ptr<1>, %ps: !llvm.ptr<1>, %m: i32, "
        "%pt: !llvm.ptr<1>)",
        f'    attributes {{tilus.kernel, tilus.num_warps = {WARPS} : i32, '
        'tilus.grid = ["1", "1", "1"]} {',
        f"  %codes = tilus.global_view %pc[%n] : !llvm.ptr<1>, i32 -> !tilus.global<?x{t}>",
        "  %o16 = tilus.global_view %p16[%n] : !llvm.ptr<1>, i32 -> !tilus.global<?xf16>",
        "  %obf = tilus.global_view %pbf[%n] : !llvm.ptr<1>, i32 -> !tilus.global<?xbf16>",
        "  %o32 = tilus.global_view %p32[%n] : !llvm.ptr<1>, i32 -> !tilus.global<?xf32>",
        "  %src = tilus.global_view %ps[%m] : !llvm.ptr<1>, i32 -> !tilus.global<?xf32>",
        f"  %ot = tilus.global_view %pt[%m] : !llvm.ptr<1>, i32 -> !tilus.global<?x{t}>",
        "  %bx = tilus.block_idx 0 : i32",
        f"  %c = arith.constant {TILE} : i32",
        "  %off = arith.muli %bx, %c : i32",
        f"  %x = tilus.load_global %codes[%off] : !tilus.global<?x{t}>, i32 -> {tile(t, lt)}",
    ]
    for var, target, view in (("h", "f16", "o16"), ("b", "bf16", "obf"),
                              ("f", "f32", "o32")):
        lines += [
            f"  %{var} = tilus.cast %x : {tile(t, lt)} -> {tile(target, lt)}",
            f"  tilus.store_global %{var}, %{view}[%off] : {tile(target, lt)}, "
            f"!tilus.global<?x{target}>, i32",
        ]
    lines += [
        f"  %y = tilus.load_global %src[%off] : !tilus.global<?xf32>, i32 -> {tile('f32', st)}",
        f"  %z = tilus.cast %y : {tile('f32', st)} -> {tile(t, st)}",
        f"  tilus.store_global %z, %ot[%off] : {tile(t, st)}, !tilus.global<?x{t}>, i32",
        "  return",
        "}",
    ]
    return "\n".join(lines) + "\n"


def check_type(name, work, rng):
    bits = bits_of(name)
    table = dtype_table(name)
    # Every code, shuffled, then a partial tile of more codes.
    codes = np.concatenate([rng.permutation(1 << bits) for _ in
                            range(max(1, 300 // (1 << bits) + 1))])[:300]
    n = len(codes)
    inputs = sweep(name, table, rng)
    m = len(inputs)

    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    src = os.path.join(d, "k.mlir")
    ptx = os.path.join(d, "k.ptx")
    with open(src, "w") as f:
        f.write(kernel(name))
    with open(os.path.join(d, "codes.bin"), "wb") as f:
        f.write(pack(codes, bits).ljust(padded((n * bits + 7) // 8), b"\0"))
    inputs.tofile(os.path.join(d, "src.bin"))
    subprocess.run(["tilusc", src, "-o", ptx], check=True)
    grid = (max(n, m) + TILE - 1) // TILE
    out_t = padded((m * bits + 7) // 8)
    subprocess.run([
        "tilus-run", ptx, "--kernel", "cast_kernel", "--grid", str(grid),
        "--block", str(WARPS * 32),
        "--arg", "buf:" + os.path.join(d, "codes.bin"), "--arg", f"i32:{n}",
        "--arg", f"buf:zeros:{2 * n}", "--arg", f"buf:zeros:{2 * n}",
        "--arg", f"buf:zeros:{4 * n}",
        "--arg", "buf:" + os.path.join(d, "src.bin"), "--arg", f"i32:{m}",
        "--arg", f"buf:zeros:{out_t}",
        "--dump", "2:" + os.path.join(d, "f16.bin"),
        "--dump", "3:" + os.path.join(d, "bf16.bin"),
        "--dump", "4:" + os.path.join(d, "f32.bin"),
        "--dump", "7:" + os.path.join(d, "t.bin")], check=True)

    failures = []
    values = [table[int(c)] for c in codes]
    for target, dtype in (("f16", np.uint16), ("bf16", np.uint16),
                          ("f32", np.uint32)):
        got = np.fromfile(os.path.join(d, target + ".bin"), dtype=dtype)
        want = convert(target, name, values)
        for i in range(n):
            if int(got[i]) != want[i]:
                failures.append(f"{name} code {int(codes[i]):#x} ({values[i]}) "
                                f"-> {target}: got {int(got[i]):#x}, "
                                f"want {want[i]:#x}")
    with open(os.path.join(d, "t.bin"), "rb") as f:
        got = unpack(f.read(), m, bits)
    texts = [f32_text(v) for v in inputs]
    want = convert(name, "f32", texts)
    for i in range(m):
        if got[i] != want[i]:
            failures.append(f"f32 {texts[i]} ({inputs.view(np.uint32)[i]:#x}) "
                            f"-> {name}: got {got[i]:#x}, want {want[i]:#x}")
    return n, m, failures


WIDE_TARGETS = ["f16", "bf16", "f32", "f8e4m3", "f8e5m2", "f6e3m2", "f4e2m1",
                "f3e1m1", "bool", "i4", "u4", "i8", "u8", "i16", "u16", "i32",
                "u32", "i64", "u64"]


def int_inputs(name, rng):
    bits = int(name[1:])
    signed = name[0] == "i"
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else \
        (0, (1 << bits) - 1)
    values = {lo, hi, 0, 1, lo + 1, hi - 1}
    for k in range(bits):
        for v in ((1 << k) - 1, 1 << k, (1 << k) + 1, 3 << k):
            values.update({v, -v})
    # Ties and near-ties of f16 / bf16 / f32 rounding, and the f16 range end.
    for v in (2049, 2051, 4097, 65504, 65519, 65520, 65536, 16777217,
              16777219, (1 << 24) + (1 << 13), (1 << 40) + (1 << 29) + 1,
              (1 << 40) + (1 << 29)):
        values.update({v, -v})
    values = [v for v in values if lo <= v <= hi]

    def draw():
        r = int(rng.integers(0, 1 << 32)) << 32 | int(rng.integers(0, 1 << 32))
        return lo + r % (hi - lo + 1)

    values += [draw() for _ in range(600)]
    # Random magnitudes of every size.
    values += [draw() >> int(rng.integers(0, bits)) for _ in range(300)]
    codes = [v & ((1 << bits) - 1) for v in values]
    return codes, [str(v) for v in values]


def wide_inputs(name, rng):
    """Codes of `name` and their decimal text for tilus-dtype."""
    if name in ("f16", "bf16"):
        table = dtype_table(name)
        codes = list(range(1 << 16))
        return codes, [table[c] for c in codes]
    if name == "f32":
        bits = list(rng.integers(0, 1 << 32, 3000, dtype=np.uint64))
        bits += [0, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0x7f800001,
                 0xffffffff, 0x00000001, 0x80000001, 0x7f7fffff, 0xff7fffff,
                 0x477ff000, 0x477fefff, 0x477ff001, 0x47800000, 0x43e00000,
                 0x4f000000, 0xdf000000, 0x5f800000, 0x5effffff]
        values = np.array(bits, dtype=np.uint64).astype(np.uint32).view(np.float32)
        return [int(b) for b in bits], [f32_text(v) for v in values]
    return int_inputs(name, rng)


def check_wide_source(name, work, rng):
    bits = bits_of(name) if name not in ("f16", "bf16", "f32") else \
        {"f16": 16, "bf16": 16, "f32": 32}[name]
    codes, texts = wide_inputs(name, rng)
    n = len(codes)
    t = mlir_type(name)
    lt = f'#tilus.layout<"{LOAD_LAYOUT}">'

    def tile(elem):
        return f"!tilus.tile<{TILE}x{elem}, {lt}>"

    params = ["%pc: !llvm.ptr<1>", "%n: i32"] + \
        [f"%p{i}: !llvm.ptr<1>" for i in range(len(WIDE_TARGETS))]
    lines = [f"func.func @cast_kernel({', '.join(params)})",
             f'    attributes {{tilus.kernel, tilus.num_warps = {WARPS} : i32, '
             'tilus.grid = ["1", "1", "1"]} {',
             f"  %src = tilus.global_view %pc[%n] : !llvm.ptr<1>, i32 -> !tilus.global<?x{t}>",
             "  %bx = tilus.block_idx 0 : i32",
             f"  %c = arith.constant {TILE} : i32",
             "  %off = arith.muli %bx, %c : i32",
             f"  %x = tilus.load_global %src[%off] : !tilus.global<?x{t}>, i32 -> {tile(t)}"]
    for i, target in enumerate(WIDE_TARGETS):
        mt = mlir_type(target)
        lines += [
            f"  %g{i} = tilus.global_view %p{i}[%n] : !llvm.ptr<1>, i32 -> !tilus.global<?x{mt}>",
            f"  %y{i} = tilus.cast %x : {tile(t)} -> {tile(mt)}",
            f"  tilus.store_global %y{i}, %g{i}[%off] : {tile(mt)}, !tilus.global<?x{mt}>, i32"]
    lines += ["  return", "}"]
    d = os.path.join(work, "wide_" + name)
    os.makedirs(d, exist_ok=True)
    src = os.path.join(d, "k.mlir")
    with open(src, "w") as f:
        f.write("\n".join(lines) + "\n")
    ptx = os.path.join(d, "k.ptx")
    subprocess.run(["tilusc", src, "-o", ptx], check=True)
    with open(os.path.join(d, "src.bin"), "wb") as f:
        f.write(pack(codes, bits).ljust(padded((n * bits + 7) // 8), b"\0"))
    args = ["--arg", "buf:" + os.path.join(d, "src.bin"), "--arg", f"i32:{n}"]
    dumps = []
    for i, target in enumerate(WIDE_TARGETS):
        tb = {"f16": 16, "bf16": 16, "f32": 32}.get(target) or bits_of(target)
        args += ["--arg", f"buf:zeros:{padded((n * tb + 7) // 8)}"]
        dumps += ["--dump", f"{i + 2}:" + os.path.join(d, f"out{i}.bin")]
    subprocess.run(["tilus-run", ptx, "--kernel", "cast_kernel", "--grid",
                    str((n + TILE - 1) // TILE), "--block", str(WARPS * 32)] +
                   args + dumps, check=True)
    failures = []
    for i, target in enumerate(WIDE_TARGETS):
        tb = {"f16": 16, "bf16": 16, "f32": 32}.get(target) or bits_of(target)
        with open(os.path.join(d, f"out{i}.bin"), "rb") as f:
            got = unpack(f.read(), n, tb)
        want = convert(target, name, texts)
        for j in range(n):
            if got[j] != want[j]:
                failures.append(f"{name} {texts[j]} -> {target}: got "
                                f"{got[j]:#x}, want {want[j]:#x}")
    return n * len(WIDE_TARGETS), failures


def main_wide(work):
    rng = np.random.default_rng(99)
    failures, total = [], 0
    sources = ["f16", "bf16", "f32", "i8", "i16", "u16", "i32", "u32", "i64",
               "u64"]
    for name in sources:
        count, bad = check_wide_source(name, work, rng)
        total += count
        failures += bad
    for line in failures[:50]:
        print("FAIL:", line)
    if failures:
        print(f"{len(failures)} mismatches")
        sys.exit(1)
    print(f"OK: {len(sources)} sources x {len(WIDE_TARGETS)} targets, "
          f"{total} conversions match tilus-dtype")


def main():
    work = sys.argv[1]
    if sys.argv[2:] == ["--wide"]:
        return main_wide(work)
    names = sys.argv[2:] or small_types()
    rng = np.random.default_rng(20261126)
    failures = []
    codes = sweeps = 0
    for name in names:
        n, m, bad = check_type(name, work, rng)
        codes += n
        sweeps += m
        failures += bad
    for line in failures[:50]:
        print("FAIL:", line)
    if failures:
        print(f"{len(failures)} mismatches")
        sys.exit(1)
    print(f"OK: {len(names)} types, {codes} codes to f16/bf16/f32 and "
          f"{sweeps} f32 values to each type match tilus-dtype")


if __name__ == "__main__":
    main()
