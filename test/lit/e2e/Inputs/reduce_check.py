"""tilus.reduce (sum, max, min, argmax, argmin) over each dimension of 2-d
tiles, and the SIMT tilus.dot, on the emulator against numpy, every element
checked.

Layouts are written in the general form so that the result layout (the
source layout reduced: spatial modes of the dimension become replication)
can be derived here. Reductions that cross warps get a scratch area by hand
(`tilus.scratch_offset`, `tilus.shared_bytes`, tilus-run --smem).

usage: reduce_check.py WORKDIR reduce|arg|dot
"""

import os
import subprocess
import sys

import numpy as np

rng = np.random.default_rng(11)
WARPS = 4
SMEM = 8192


class Layout:
    """shape, modes [(size, dim)] dimension-major, spatial and local entries
    (indices into modes; a spatial entry -n is a replicated mode)."""

    def __init__(self, shape, modes, spatial, local):
        self.shape, self.modes, self.spatial, self.local = \
            shape, modes, spatial, local

    def text(self):
        return ('#tilus.layout<"layout(shape=[{}], modes=[{}], spatial=[{}], '
                'local=[{}])">'.format(
                    ",".join(map(str, self.shape)),
                    ",".join(str(s) for s, _ in self.modes),
                    ",".join(map(str, self.spatial)),
                    ",".join(map(str, self.local))))

    def reduce(self, dim, keep):
        renumber, modes = {}, []
        for i, (size, d) in enumerate(self.modes):
            if d != dim:
                renumber[i] = len(modes)
                modes.append((size, d if keep or d < dim else d - 1))
        spatial = []
        for e in self.spatial:
            if e < 0:
                spatial.append(e)
            elif self.modes[e][1] == dim:
                spatial.append(-self.modes[e][0])
            else:
                spatial.append(renumber[e])
        local = [renumber[e] for e in self.local if self.modes[e][1] != dim]
        shape = list(self.shape)
        if keep:
            shape[dim] = 1
        else:
            del shape[dim]
        return Layout(shape, modes, spatial, local)


def mlir_type(name):
    if name in ("i8", "i16", "i32", "i64", "f16", "bf16", "f32"):
        return name
    return "!tilus." + name


def tile(shape, ty, layout):
    return "!tilus.tile<{}x{}, {}>".format("x".join(map(str, shape)),
                                           mlir_type(ty), layout.text())


def glob(shape, ty):
    return "!tilus.global<{}x{}>".format("x".join(map(str, shape)),
                                         mlir_type(ty))


def bits_of(ty):
    return {"f32": 32, "f16": 16, "i32": 32, "u8": 8, "i4": 4}[ty]


def pack(codes, bits):
    if bits % 8 == 0:
        data = np.asarray(codes).astype(
            {8: np.uint8, 16: np.uint16, 32: np.uint32}[bits]).tobytes()
    else:
        total = 0
        for i, c in enumerate(codes.ravel()):
            total |= int(c) << (i * bits)
        data = total.to_bytes((codes.size * bits + 7) // 8, "little")
    return data.ljust((len(data) + 3) // 4 * 4, b"\0")


def unpack(data, count, bits):
    if bits % 8 == 0:
        return np.frombuffer(data, {8: np.uint8, 16: np.uint16,
                                    32: np.uint32}[bits])[:count].astype(np.int64)
    total = int.from_bytes(data, "little")
    return np.array([(total >> (i * bits)) & ((1 << bits) - 1)
                     for i in range(count)], np.int64)


def run(work, label, params, body, inputs, out_bytes, dump):
    d = os.path.join(work, label)
    os.makedirs(d, exist_ok=True)
    lines = [f"func.func @k({', '.join(params)})",
             f"    attributes {{tilus.kernel, tilus.num_warps = {WARPS} : i32, "
             f'tilus.grid = ["1", "1", "1"]}} {{',
             "  %c0 = arith.constant 0 : i32"]
    lines += ["  " + line for line in body] + ["  return", "}"]
    src = os.path.join(d, "k.mlir")
    with open(src, "w") as f:
        f.write("\n".join(lines) + "\n")
    ptx = os.path.join(d, "k.ptx")
    subprocess.run(["tilusc", src, "-o", ptx], check=True)
    args = []
    for i, data in enumerate(inputs):
        path = os.path.join(d, f"in{i}.bin")
        with open(path, "wb") as f:
            f.write(data)
        args += ["--arg", "buf:" + path]
    out = os.path.join(d, "out.bin")
    args += ["--arg", f"buf:zeros:{out_bytes}"]
    subprocess.run(["tilus-run", ptx, "--kernel", "k", "--grid", "1",
                    "--block", str(WARPS * 32), "--smem", str(SMEM)] + args +
                   ["--dump", f"{dump}:{out}"], check=True)
    with open(out, "rb") as f:
        return f.read()


failures = []
checked = 0


def report(label, ok, got, want):
    global checked
    checked += 1
    bad = np.nonzero(~np.asarray(ok).ravel())[0]
    for i in bad[:5]:
        failures.append(f"{label}[{i}]: got {got.ravel()[i]} want {want.ravel()[i]}")
    if len(bad) > 5:
        failures.append(f"{label}: {len(bad)} mismatches")


# spatial(8,16).local(2,4): dim 1 in lanes and registers; dim 0 straddles
# lanes (2) and warps (4).
A = Layout([16, 64], [(8, 0), (2, 0), (16, 1), (4, 1)], [0, 2], [1, 3])
# dim 0 only across warps (thread stride 32), dim 1 across the 32 lanes.
B = Layout([8, 64], [(4, 0), (2, 0), (32, 1), (2, 1)], [0, 2], [1, 3])
# A replicated digit inside each warp (4 lanes hold the same elements).
C = Layout([16, 32], [(4, 0), (4, 0), (8, 1), (4, 1)], [0, -4, 2], [1, 3])
# Rank 1: a reduction to a single element over every thread.
D = Layout([256], [(128, 0), (2, 0)], [0], [1])


def values(ty, shape):
    if ty == "f32":
        v = rng.uniform(-10, 10, shape).astype(np.float32)
        return v, v.view(np.uint32)
    if ty == "f16":
        v = rng.uniform(-2, 2, shape).astype(np.float16)
        return v, v.view(np.uint16)
    if ty == "i32":
        v = rng.integers(-1 << 31, 1 << 31, shape).astype(np.int64)
        return v, (v & 0xffffffff).astype(np.uint32)
    if ty == "u8":
        v = rng.integers(0, 256, shape).astype(np.int64)
        return v, v.astype(np.uint8)
    if ty == "i4":
        v = rng.integers(-8, 8, shape).astype(np.int64)
        return v, (v & 0xf).astype(np.uint64)
    raise ValueError(ty)


def decode(ty, raw, count):
    bits = bits_of(ty)
    codes = unpack(raw, count, bits)
    if ty == "f32":
        return codes.astype(np.uint32).view(np.float32)
    if ty == "f16":
        return codes.astype(np.uint16).view(np.float16)
    if ty in ("i32", "i4"):
        return np.where(codes >= 1 << (bits - 1), codes - (1 << bits), codes)
    return codes


def tied_values(ty, shape, nans):
    """Few distinct values, so that most rows hold ties; `nans` NaNs (one
    row, or two, holding several) among floats."""
    v = rng.integers(0 if ty == "u8" else -3, 4, shape)
    if ty == "f32":
        v = v.astype(np.float32)
        flat = v.reshape(-1)
        flat[rng.choice(flat.size, nans, replace=False)] = np.nan
        return v, v.view(np.uint32)
    if ty == "f16":
        v = v.astype(np.float16)
        return v, v.view(np.uint16)
    if ty == "i32":
        return v, (v & 0xffffffff).astype(np.uint32)
    return v, v.astype(np.uint8)


def reduce_case(work, name, layout, dim, keep, kind, ty, nans=0):
    global checked
    shape = layout.shape
    result = layout.reduce(dim, keep or len(layout.shape) == 1)
    rshape = result.shape
    arg = kind.startswith("arg")
    rty = "i32" if arg else ty
    v, codes = tied_values(ty, shape, nans) if arg else values(ty, shape)
    offsets = ", ".join(["%c0"] * len(shape))
    roffsets = ", ".join(["%c0"] * len(rshape))
    i32s = ", ".join(["i32"] * len(shape))
    ri32s = ", ".join(["i32"] * len(rshape))
    body = [
        "%g = tilus.global_view %p[] : !llvm.ptr<1> -> " + glob(shape, ty),
        "%o = tilus.global_view %q[] : !llvm.ptr<1> -> " + glob(rshape, rty),
        f"%x = tilus.load_global %g[{offsets}] : {glob(shape, ty)}, {i32s} -> "
        + tile(shape, ty, layout),
        f"%r = tilus.reduce {kind} %x {{dim = {dim} : i64, keepdim = "
        f"{'true' if keep else 'false'}, tilus.scratch_offset = 256 : i64}} : "
        f"{tile(shape, ty, layout)} -> {tile(rshape, rty, result)}",
        f"tilus.store_global %r, %o[{roffsets}] : {tile(rshape, rty, result)}, "
        f"{glob(rshape, rty)}, {ri32s}",
    ]
    count = int(np.prod(rshape))
    raw = run(work, f"{name}_{dim}_{kind}_{ty}_{nans}",
              ["%p: !llvm.ptr<1>", "%q: !llvm.ptr<1>"], body,
              [pack(codes, bits_of(ty))],
              len(pack(np.zeros(count, np.uint64), bits_of(rty))), 1)
    got = decode(rty, raw, count)
    if arg:
        # numpy's rule is the language's: the first of equal values, and
        # the first NaN before any number.
        want = {"argmax": np.argmax, "argmin": np.argmin}[kind](
            v, axis=dim).ravel()
        report(f"reduce {kind} {ty} dim {dim} of {name} ({nans} NaNs)",
               got == want, got, want)
        return
    ref = {"sum": np.sum, "max": np.max, "min": np.min}[kind]
    if ty == "f16":
        want = ref(v.astype(np.float32), axis=dim).astype(np.float16)
    else:
        want = ref(v, axis=dim)
    want = want.ravel()
    if ty == "i32" and kind == "sum":
        want = (want + (1 << 31)) % (1 << 32) - (1 << 31)
    if ty == "f32" and kind == "sum":
        bound = np.sum(np.abs(v), axis=dim).ravel() * 2.0 ** -20
        ok = np.abs(got.astype(np.float64) - want) <= bound
    elif ty == "f16" and kind == "sum":
        # Partials crossing warps are rounded to f16.
        bound = np.sum(np.abs(v.astype(np.float64)), axis=dim).ravel() * 2.0 ** -9
        ok = np.abs(got.astype(np.float64) - want) <= bound
    elif ty == "i4" and kind == "sum":
        want = (want + 8) % 16 - 8
        ok = got == want
    else:
        ok = got == want
    report(f"reduce {kind} {ty} dim {dim} of {name}", ok, got, want)


def reduce_tests(work):
    for name, layout in (("A", A), ("B", B), ("C", C)):
        for dim in (0, 1):
            for kind in ("sum", "max", "min"):
                reduce_case(work, name, layout, dim, dim == 1, kind, "f32")
    reduce_case(work, "D", D, 0, False, "sum", "f32")
    reduce_case(work, "D", D, 0, False, "max", "i32")
    for dim in (0, 1):
        reduce_case(work, "A", A, dim, False, "sum", "i32")
        reduce_case(work, "A", A, dim, True, "sum", "f16")
        reduce_case(work, "A", A, dim, True, "max", "u8")
        reduce_case(work, "B", B, dim, True, "min", "i4")
        reduce_case(work, "B", B, dim, False, "sum", "i4")


def arg_tests(work):
    for name, layout in (("A", A), ("B", B), ("C", C)):
        for dim in (0, 1):
            for kind in ("argmax", "argmin"):
                reduce_case(work, name, layout, dim, dim == 1, kind, "f32")
                reduce_case(work, name, layout, dim, dim == 0, kind, "f32",
                            nans=6)
    for kind in ("argmax", "argmin"):
        reduce_case(work, "D", D, 0, False, kind, "f32", nans=3)
        reduce_case(work, "D", D, 0, False, kind, "i32")
        for dim in (0, 1):
            reduce_case(work, "A", A, dim, False, kind, "f16")
            reduce_case(work, "A", A, dim, True, kind, "u8")
            reduce_case(work, "B", B, dim, False, kind, "i32")


def dot_case(work, label, m, n, k, in_ty, a_layout, b_layout, c_layout):
    a = rng.uniform(-1, 1, (m, k)).astype(np.float16 if in_ty == "f16" else np.float32)
    b = rng.uniform(-1, 1, (k, n)).astype(a.dtype)
    c = rng.uniform(-1, 1, (m, n)).astype(np.float32)
    body = [
        "%ga = tilus.global_view %pa[] : !llvm.ptr<1> -> " + glob([m, k], in_ty),
        "%gb = tilus.global_view %pb[] : !llvm.ptr<1> -> " + glob([k, n], in_ty),
        "%gc = tilus.global_view %pc[] : !llvm.ptr<1> -> " + glob([m, n], "f32"),
        "%go = tilus.global_view %po[] : !llvm.ptr<1> -> " + glob([m, n], "f32"),
        f"%a = tilus.load_global %ga[%c0, %c0] : {glob([m, k], in_ty)}, i32, i32 -> "
        + tile([m, k], in_ty, a_layout),
        f"%b = tilus.load_global %gb[%c0, %c0] : {glob([k, n], in_ty)}, i32, i32 -> "
        + tile([k, n], in_ty, b_layout),
        f"%c = tilus.load_global %gc[%c0, %c0] : {glob([m, n], 'f32')}, i32, i32 -> "
        + tile([m, n], "f32", c_layout),
        f"%d = tilus.dot %a, %b, %c : {tile([m, k], in_ty, a_layout)}, "
        f"{tile([k, n], in_ty, b_layout)}, {tile([m, n], 'f32', c_layout)}",
        f"tilus.store_global %d, %go[%c0, %c0] : {tile([m, n], 'f32', c_layout)}, "
        f"{glob([m, n], 'f32')}, i32, i32",
    ]
    raw = run(work, label, ["%pa: !llvm.ptr<1>", "%pb: !llvm.ptr<1>",
                            "%pc: !llvm.ptr<1>", "%po: !llvm.ptr<1>"], body,
              [a.tobytes(), b.tobytes(), c.tobytes()], m * n * 4, 3)
    got = np.frombuffer(raw, np.float32).reshape(m, n)
    want = a.astype(np.float64) @ b.astype(np.float64) + c
    bound = (np.abs(a.astype(np.float64)) @ np.abs(b.astype(np.float64)) +
             np.abs(c)) * 2.0 ** -20
    report(f"dot {label}", np.abs(got - want) <= bound, got, want)


def dot_tests(work):
    # c: spatial(8,16).local(4,2) on 32x32; each thread holds 4 rows and 2
    # columns, so a and b are replicated across the threads sharing them.
    c = Layout([32, 32], [(8, 0), (4, 0), (16, 1), (2, 1)], [0, 2], [1, 3])
    # a: 32 x 16, thread (r, q) holds rows 4r..4r+3, every k: replicated
    # over q (16).
    a = Layout([32, 16], [(8, 0), (4, 0), (16, 1)], [0, -16], [1, 2])
    # b: 16 x 32, thread (r, q) holds columns 2q, 2q+1, every k: replicated
    # over r (8).
    b = Layout([16, 32], [(16, 0), (16, 1), (2, 1)], [-8, 1], [0, 2])
    dot_case(work, "f32", 32, 32, 16, "f32", a, b, c)
    dot_case(work, "f16", 32, 32, 16, "f16", a, b, c)


def main():
    work, group = sys.argv[1], sys.argv[2]
    {"reduce": reduce_tests, "arg": arg_tests, "dot": dot_tests}[group](work)
    for line in failures[:40]:
        print("FAIL:", line)
    if failures:
        sys.exit(1)
    print(f"OK: {checked} {group} cases, every element as expected")


if __name__ == "__main__":
    main()
