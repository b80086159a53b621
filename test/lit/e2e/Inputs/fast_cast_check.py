"""Exhaustive check of the packed casts to f16 and bf16 (codegen/FastCast.cpp).

For each type T of at most 8 bits (i1..i8, u1..u8, every small float) and
each register layout below, one kernel loads every code of T several times
over (shuffled, so each code meets every local index and every neighbour
parity), casts the tile to f16 and to bf16 and stores both. The PTX must use
the packed conversion exactly where codegen/FastCast.cpp promises one (one
packed block per pair of elements, no per-element cvt to that target), and
every output code must equal the dtype library's conversion (tilus-dtype).

usage: fast_cast_check.py WORKDIR
"""

import os
import re
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cast_check import (bits_of, convert, dtype_table, mlir_type, pack,  # noqa
                        padded, small_types)

WARPS = 4
# Local counts 2, 4 and 8, locals adjacent in memory or a warp apart.
LAYOUTS = ["spatial(128).local(2)", "spatial(128).local(4)",
           "local(8).spatial(128)", "local(2).spatial(128).local(2)"]


def locals_of(layout):
    return int(np.prod([int(n) for n in re.findall(r"local\((\d+)\)",
                                                   layout)]))


def expects_fast(name, target):
    """Whether codegen/FastCast.cpp has a packed cast from `name`."""
    return True


def kernel(name, layout, size):
    t = mlir_type(name)
    lt = f'#tilus.layout<"{layout}">'

    def tile(elem):
        return f"!tilus.tile<{size}x{elem}, {lt}>"

    lines = [
        "func.func @cast_kernel(%pc: !llvm.ptr<1>, %n: i32, %p16: !llvm.ptr<1>, "
        "%pbf: !llvm.ptr<1>)",
        f'    attributes {{tilus.kernel, tilus.num_warps = {WARPS} : i32, '
        'tilus.grid = ["1", "1", "1"]} {',
        f"  %codes = tilus.global_view %pc[%n] : !llvm.ptr<1>, i32 -> !tilus.global<?x{t}>",
        "  %o16 = tilus.global_view %p16[%n] : !llvm.ptr<1>, i32 -> !tilus.global<?xf16>",
        "  %obf = tilus.global_view %pbf[%n] : !llvm.ptr<1>, i32 -> !tilus.global<?xbf16>",
        "  %bx = tilus.block_idx 0 : i32",
        f"  %c = arith.constant {size} : i32",
        "  %off = arith.muli %bx, %c : i32",
        f"  %x = tilus.load_global %codes[%off] : !tilus.global<?x{t}>, i32 -> {tile(t)}",
    ]
    for var, target, view in (("h", "f16", "o16"), ("b", "bf16", "obf")):
        lines += [
            f"  %{var} = tilus.cast %x : {tile(t)} -> {tile(target)}",
            f"  tilus.store_global %{var}, %{view}[%off] : {tile(target)}, "
            f"!tilus.global<?x{target}>, i32",
        ]
    lines += ["  return", "}"]
    return "\n".join(lines) + "\n"


def check(name, layout, index, work, rng):
    bits = bits_of(name)
    size = WARPS * 32 * locals_of(layout)
    table = dtype_table(name)
    codes = np.concatenate([rng.permutation(1 << bits) for _ in
                            range(max(4, 2 * size // (1 << bits)))])
    n = len(codes)
    d = os.path.join(work, f"{name}_{index}")
    os.makedirs(d, exist_ok=True)
    src, ptx = os.path.join(d, "k.mlir"), os.path.join(d, "k.ptx")
    with open(src, "w") as f:
        f.write(kernel(name, layout, size))
    with open(os.path.join(d, "codes.bin"), "wb") as f:
        f.write(pack(codes, bits).ljust(padded((n * bits + 7) // 8), b"\0"))
    subprocess.run(["tilusc", src, "-o", ptx], check=True)
    failures = []
    text = open(ptx).read()
    # Each packed conversion of a pair starts by packing two registers.
    pairs = len(re.findall(r"mov\.b32 %x[0-9]+, \{", text))
    fast = [t for t in ("f16", "bf16") if expects_fast(name, t)]
    if pairs != len(fast) * locals_of(layout) // 2:
        failures.append(f"{name} ({layout}): {pairs} packed pairs, expected "
                        f"{len(fast)} casts of {locals_of(layout)} elements")
    for target in fast:
        if re.search(rf"cvt\.rn\.{target}\.", text):
            failures.append(f"{name} -> {target} ({layout}): cvt per element")
    subprocess.run([
        "tilus-run", ptx, "--kernel", "cast_kernel",
        "--grid", str((n + size - 1) // size), "--block", str(WARPS * 32),
        "--arg", "buf:" + os.path.join(d, "codes.bin"), "--arg", f"i32:{n}",
        "--arg", f"buf:zeros:{2 * n}", "--arg", f"buf:zeros:{2 * n}",
        "--dump", "2:" + os.path.join(d, "f16.bin"),
        "--dump", "3:" + os.path.join(d, "bf16.bin")], check=True)
    values = [table[int(c)] for c in codes]
    for target in ("f16", "bf16"):
        got = np.fromfile(os.path.join(d, target + ".bin"), dtype=np.uint16)
        want = convert(target, name, values)
        for i in range(n):
            if int(got[i]) != want[i]:
                failures.append(f"{name} code {int(codes[i]):#x} "
                                f"({values[i]}) -> {target} ({layout}): got "
                                f"{int(got[i]):#x}, want {want[i]:#x}")
    return n, failures


def main():
    work = sys.argv[1]
    rng = np.random.default_rng(20261127)
    names = [n for n in small_types() if n != "bool"]
    failures, total, fast = [], 0, 0
    for name in names:
        fast += expects_fast(name, "f16") + expects_fast(name, "bf16")
        for index, layout in enumerate(LAYOUTS):
            n, bad = check(name, layout, index, work, rng)
            total += n
            failures += bad
    for line in failures[:50]:
        print("FAIL:", line)
    if failures:
        print(f"{len(failures)} mismatches")
        sys.exit(1)
    print(f"OK: {len(names)} types x {len(LAYOUTS)} layouts, {fast} packed "
          f"casts, {total} codes to f16 and bf16 match tilus-dtype")


if __name__ == "__main__":
    main()
