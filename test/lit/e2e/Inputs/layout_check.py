"""convert_layout, broadcast, slice, transpose and arange on the emulator,
every element checked against numpy (4-bit types by their codes).

Each case is a one-block kernel: load a tile with the source layout, apply
the instruction, store the result. The shared memory each kernel is
launched with is what tilus-plan-shared-memory records, so a scratch area
outside the plan is an out-of-bounds report; any sanitizer report fails the
case. Each case prints whether its lowering stayed in registers or went
through shared memory (a bar.sync in the PTX).

usage: layout_check.py WORKDIR
"""

import os
import re
import subprocess
import sys

import numpy as np

WARPS = 4
rng = np.random.default_rng(20261126)
NUMPY = {"f32": np.float32, "f16": np.float16, "i32": np.int32, "i8": np.int8}
BITS = {"f32": np.uint32, "f16": np.uint16, "i32": np.uint32, "i8": np.uint8}
# 4-bit types: tensors hold two elements a byte, the first in the low bits;
# here their elements are the 4-bit codes, one per uint8.
PACKED = {"!tilus.i4", "!tilus.u4"}


def to_bytes(ty, values):
    if ty not in PACKED:
        return values
    flat = values.ravel()
    return (flat[0::2] | (flat[1::2] << 4)).astype(np.uint8)


def from_bytes(ty, data, shape):
    if ty not in PACKED:
        return np.frombuffer(data, NUMPY[ty]).reshape(shape)
    raw = np.frombuffer(data, np.uint8)
    return np.stack([raw & 15, raw >> 4], axis=1).ravel().reshape(shape)


def tile(shape, ty, layout):
    return '!tilus.tile<{}x{}, #tilus.layout<"{}">>'.format(
        "x".join(map(str, shape)), ty, layout)


def glob(shape, ty):
    return "!tilus.global<{}x{}>".format("x".join(map(str, shape)), ty)


def random_values(ty, shape):
    if ty in PACKED:
        return rng.integers(0, 16, shape).astype(np.uint8)
    if ty.startswith("f"):
        return rng.uniform(-100, 100, shape).astype(NUMPY[ty])
    info = np.iinfo(NUMPY[ty])
    return rng.integers(info.min, info.max, shape, endpoint=True).astype(
        NUMPY[ty])


def run_kernel(work, name, body, inputs, out_shape, ty):
    d = os.path.join(work, name)
    os.makedirs(d, exist_ok=True)
    params = ", ".join([f"%p{i}: !llvm.ptr<1>" for i in range(len(inputs))] +
                       ["%q: !llvm.ptr<1>"])
    lines = [f"func.func @k({params})",
             f"    attributes {{tilus.kernel, tilus.num_warps = {WARPS} : i32, "
             'tilus.grid = ["1", "1", "1"]} {',
             "  %c0 = arith.constant 0 : i32"]
    lines += ["  " + line for line in body] + ["  return", "}"]
    src = os.path.join(d, "k.mlir")
    with open(src, "w") as f:
        f.write("\n".join(lines) + "\n")
    planned = subprocess.run(["tilus-opt", src, "--tilus-plan-shared-memory"],
                             check=True, capture_output=True, text=True).stdout
    smem = int(re.search(r"tilus.shared_bytes = (\d+)", planned).group(1))
    ptx = os.path.join(d, "k.ptx")
    subprocess.run(["tilusc", src, "-o", ptx], check=True)
    with open(ptx) as f:
        path = "shared" if "bar.sync" in f.read() else "registers"
    args = []
    for i, data in enumerate(inputs):
        arg = os.path.join(d, f"in{i}.bin")
        to_bytes(ty, data).tofile(arg)
        args += ["--arg", "buf:" + arg]
    out = os.path.join(d, "out.bin")
    count = int(np.prod(out_shape))
    out_bytes = (count + 1) // 2 if ty in PACKED else \
        count * np.dtype(NUMPY[ty]).itemsize
    args += ["--arg", f"buf:zeros:{out_bytes}"]
    run = subprocess.run(["tilus-run", ptx, "--kernel", "k", "--grid", "1",
                          "--block", str(WARPS * 32), "--smem", str(smem)] +
                         args + ["--dump", f"{len(inputs)}:{out}"],
                         capture_output=True, text=True)
    if run.returncode != 0:
        return None, path, run.stderr.strip()
    with open(out, "rb") as f:
        return from_bytes(ty, f.read(), out_shape), path, ""


failures = []
count = 0


def check(work, name, op, ty, shape, src_layout, rshape, dst_layout, expect):
    """Runs `%y = op : src -> dst` on a random tile %x; expect(x) is the
    numpy result."""
    global count
    count += 1
    x = random_values(ty, shape)
    zeros = ", ".join(["%c0"] * len(shape))
    rzeros = ", ".join(["%c0"] * len(rshape))
    i32s = ", ".join(["i32"] * len(shape))
    ri32s = ", ".join(["i32"] * len(rshape))
    src, dst = tile(shape, ty, src_layout), tile(rshape, ty, dst_layout)
    body = [
        f"%g = tilus.global_view %p0[] : !llvm.ptr<1> -> {glob(shape, ty)}",
        f"%o = tilus.global_view %q[] : !llvm.ptr<1> -> {glob(rshape, ty)}",
        f"%x = tilus.load_global %g[{zeros}] : {glob(shape, ty)}, {i32s} -> {src}",
        f"%y = {op} : {src} -> {dst}",
        f"tilus.store_global %y, %o[{rzeros}] : {dst}, {glob(rshape, ty)}, {ri32s}",
    ]
    got, path, error = run_kernel(work, name, body, [x], rshape, ty)
    print(f"{name}: {path}")
    if got is None:
        failures.append(f"{name}: {error}")
        return
    want = expect(x)
    if ty not in PACKED:
        got, want = got.view(BITS[ty]), want.view(BITS[ty])
    bad = np.argwhere(got != want)
    for index in bad[:5]:
        i = tuple(index)
        failures.append(f"{name}{list(i)}: got {got[i]} want {want[i]}")


def check_reduce_broadcast(work, name, shape, layout, dim, reduced,
                           result):
    """max over `dim` (layout `reduced`), broadcast back to `shape` with
    layout `result`: a reduced-shape tile as tilus.reduce makes it."""
    global count
    count += 1
    x = random_values("i32", shape)
    rshape = list(shape)
    rshape[dim] = 1
    zeros = ", ".join(["%c0"] * len(shape))
    i32s = ", ".join(["i32"] * len(shape))
    src, red = tile(shape, "i32", layout), tile(rshape, "i32", reduced)
    dst = tile(shape, "i32", result)
    body = [
        f"%g = tilus.global_view %p0[] : !llvm.ptr<1> -> {glob(shape, 'i32')}",
        f"%o = tilus.global_view %q[] : !llvm.ptr<1> -> {glob(shape, 'i32')}",
        f"%x = tilus.load_global %g[{zeros}] : {glob(shape, 'i32')}, {i32s} -> {src}",
        f"%r = tilus.reduce max %x {{dim = {dim} : i64, keepdim = true}} : {src} -> {red}",
        f"%y = tilus.broadcast %r : {red} -> {dst}",
        f"tilus.store_global %y, %o[{zeros}] : {dst}, {glob(shape, 'i32')}, {i32s}",
    ]
    got, path, error = run_kernel(work, name, body, [x], shape, "i32")
    print(f"{name}: {path}")
    if got is None:
        failures.append(f"{name}: {error}")
        return
    want = np.broadcast_to(x.max(axis=dim, keepdims=True), shape)
    bad = np.argwhere(got != want)
    for index in bad[:5]:
        i = tuple(index)
        failures.append(f"{name}{list(i)}: got {got[i]} want {want[i]}")


def check_arange(work, name, shape, layout, dim):
    global count
    count += 1
    zeros = ", ".join(["%c0"] * len(shape))
    i32s = ", ".join(["i32"] * len(shape))
    t = tile(shape, "i32", layout)
    body = [
        f"%o = tilus.global_view %q[] : !llvm.ptr<1> -> {glob(shape, 'i32')}",
        f"%y = tilus.arange {dim} : {t}",
        f"tilus.store_global %y, %o[{zeros}] : {t}, {glob(shape, 'i32')}, {i32s}",
    ]
    got, path, error = run_kernel(work, name, body, [], shape, "i32")
    print(f"{name}: {path}")
    if got is None:
        failures.append(f"{name}: {error}")
        return
    want = np.indices(shape, dtype=np.int32)[dim]
    bad = np.argwhere(got != want)
    for index in bad[:5]:
        i = tuple(index)
        failures.append(f"{name}{list(i)}: got {got[i]} want {want[i]}")


def main():
    work = sys.argv[1]
    same = lambda x: x

    # convert_layout
    check(work, "convert_threads_f32", "tilus.convert_layout %x", "f32", [32, 64],
          "local(2,1).spatial(16,8).local(1,8)", [32, 64],
          "spatial(32,4).local(1,16)", same)
    check(work, "convert_local_order_f32", "tilus.convert_layout %x", "f32",
          [32, 64], "local(2,2).spatial(16,8).local(1,4)", [32, 64],
          "column_local(2,2).spatial(16,8).local(1,4)", same)
    check(work, "convert_replicated_f16", "tilus.convert_layout %x", "f16",
          [32, 64], "spatial(8,4).replicate(4).local(4,16)", [32, 64],
          "column_spatial(16,8).local(2,8)", same)
    check(work, "convert_to_replicated_i8", "tilus.convert_layout %x", "i8",
          [16, 32], "spatial(16,8).local(1,4)", [16, 32],
          "replicate(2).spatial(4,16).local(4,2)", same)
    check(work, "convert_threads_i4", "tilus.convert_layout %x", "!tilus.i4",
          [32, 64], "local(2,1).spatial(16,8).local(1,8)", [32, 64],
          "spatial(32,4).local(1,16)", same)
    check(work, "convert_rank1_i32", "tilus.convert_layout %x", "i32", [512],
          "local(4).spatial(128)", [512], "spatial(128).local(4)", same)

    # broadcast: a reduced tile (replicated where the reduced dimension was
    # spread over threads) back to the full shape.
    check(work, "broadcast_reduced_f32", "tilus.broadcast %x", "f32", [32, 1],
          "spatial(32,1).replicate(4)", [32, 64], "spatial(32,4).local(1,16)",
          lambda x: np.broadcast_to(x, (32, 64)).copy())
    check(work, "broadcast_other_layout_f32", "tilus.broadcast %x", "f32",
          [32, 1], "spatial(32,1).replicate(4)", [32, 64],
          "local(2,1).spatial(16,8).local(1,8)",
          lambda x: np.broadcast_to(x, (32, 64)).copy())
    check(work, "broadcast_rows_i32", "tilus.broadcast %x", "i32", [1, 64],
          "replicate(2).spatial(1,64)", [16, 64], "local(8,1).spatial(2,64)",
          lambda x: np.broadcast_to(x, (16, 64)).copy())
    check(work, "broadcast_scalar_f16", "tilus.broadcast %x", "f16", [1, 1],
          "local(1,1).replicate(128)", [16, 16], "spatial(16,8).local(1,2)",
          lambda x: np.broadcast_to(x, (16, 16)).copy())

    # The same after a real reduction: within warps (the broadcast stays in
    # registers), and across warps, where the reduction's scratch and the
    # broadcast's share the bytes planning gave both.
    check_reduce_broadcast(work, "reduce_broadcast_lanes", [32, 64],
                           "spatial(32,4).local(1,16)", 1,
                           "spatial(32,1).replicate(4)",
                           "spatial(32,4).local(1,16)")
    check_reduce_broadcast(work, "reduce_broadcast_warps", [32, 64],
                           "spatial(4,32).local(8,2)", 0,
                           "replicate(4).spatial(1,32).local(1,2)",
                           "local(2,1).spatial(16,8).local(1,8)")

    # slice
    check(work, "slice_rows_f32", "tilus.slice %x [16, 0]", "f32", [32, 64],
          "local(2,1).spatial(16,8).local(1,8)", [16, 64],
          "spatial(16,8).local(1,8)", lambda x: x[16:32, :].copy())
    check(work, "slice_cols_f32", "tilus.slice %x [0, 16]", "f32", [32, 64],
          "spatial(32,4).local(1,16)", [32, 16], "spatial(32,4).local(1,4)",
          lambda x: x[:, 16:32].copy())
    check(work, "slice_cols_u4", "tilus.slice %x [0, 32]", "!tilus.u4",
          [16, 64], "spatial(16,8).local(1,8)", [16, 32],
          "spatial(16,8).local(1,4)", lambda x: x[:, 32:].copy())
    check(work, "slice_inner_i8", "tilus.slice %x [3, 5]", "i8", [16, 64],
          "spatial(16,8).local(1,8)", [8, 32], "spatial(8,16).local(1,2)",
          lambda x: x[3:11, 5:37].copy())

    # transpose
    check(work, "transpose_relabel_f32", "tilus.transpose %x [1, 0]", "f32",
          [32, 32], "local(1,8).column_spatial(32,4)", [32, 32],
          "local(8,1).spatial(4,32)", lambda x: x.T.copy())
    check(work, "transpose_moving_f32", "tilus.transpose %x [1, 0]", "f32",
          [32, 64], "spatial(32,4).local(1,16)", [64, 32],
          "spatial(32,4).local(2,8)", lambda x: x.T.copy())
    check(work, "transpose_3d_i32", "tilus.transpose %x [2, 0, 1]", "i32",
          [4, 8, 16], "spatial(4,8,4).local(1,1,4)", [16, 4, 8],
          "spatial(16,4,2).local(1,1,4)",
          lambda x: np.transpose(x, (2, 0, 1)).copy())

    # arange
    check_arange(work, "arange_rows", [32, 64], "local(2,1).spatial(16,8).local(1,8)", 0)
    check_arange(work, "arange_cols", [32, 64], "local(2,1).spatial(16,8).local(1,8)", 1)
    check_arange(work, "arange_replicated", [8, 64], "replicate(2).spatial(8,8).local(1,8)", 1)
    check_arange(work, "arange_rank1", [256], "spatial(128).local(2)", 0)

    if failures:
        print("\n".join("FAIL: " + f for f in failures))
        sys.exit(1)
    print(f"OK: {count} layout cases, every element as expected")


main()
