"""Compile an example, run it on the emulator with random inputs and check
every output element against an independent numpy reference.

  run_example.py WORKDIR EXAMPLE.tl NAME=VALUE... [-D NAME=VALUE]... [--OPTION]...

NAME=VALUE sets an integer or float scalar parameter; -D overrides a
compile-time parameter; --OPTION (e.g. --arch=sm_90a) goes to tilusc. Prints one OK/FAIL line per output tensor and exits
with status 1 on any mismatch.
"""
import json
import os
import re
import subprocess
import sys

import numpy as np

NP_TYPES = {"f32": np.float32, "f16": np.float16, "i32": np.int32,
            "i8": np.int8, "i16": np.int16, "i64": np.int64}


def reference(kernel, args, consts):
    """The outputs each example must produce, computed in float64."""
    f = {k: (v.astype(np.float64) if isinstance(v, np.ndarray) else v)
         for k, v in args.items()}
    if kernel == "vector_add":
        return {"c": f["a"] + f["b"]}, 0.0
    if kernel == "softmax":
        x = f["x"]
        e = np.exp(x - x.max(axis=1, keepdims=True))
        return {"y": e / e.sum(axis=1, keepdims=True)}, 2e-6
    if kernel == "layernorm":
        x = f["x"]
        mean = x.mean(axis=1, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=1, keepdims=True)
        y = (x - mean) / np.sqrt(var + f["eps"]) * f["w"] + f["b"]
        return {"y": y}, 2e-5
    if kernel == "rmsnorm":
        # f32 sums and rsqrt.approx, then one rounding to f16 (2^-11
        # relative) and the f16 weight's product.
        x = f["x"]
        rms = np.sqrt((x * x).mean(axis=1, keepdims=True) + f["eps"])
        return {"y": x / rms * f["w"]}, 2e-3
    if kernel == "silu_and_mul":
        x = f["x"]
        n = x.shape[1] // 2
        gate, up = x[:, :n], x[:, n:]
        return {"y": gate / (1.0 + np.exp(-gate)) * up}, 2e-3
    if kernel == "argmax":
        # numpy's argmax: the first of equal values, the first NaN.
        x = f["logits"]
        return {"values": x.max(axis=1),
                "indices": np.argmax(x, axis=1)}, 0.0
    if kernel == "gemv_i8":
        # i8 x f16 products are exact in f32; the f32 sums differ from
        # float64 by rounding, the scale's product and the f16 output by one
        # rounding each (2^-11 relative).
        y = (f["w"] @ f["x"][0]) * f["scale"]
        return {"y": y}, 2e-3
    if kernel == "matmul_simt":
        return {"c": f["a"] @ f["b"]}, 1e-5 * f["a"].shape[1]
    if kernel == "matmul_f16":
        # f16 products are exact in f32; the f32 sums differ from float64 by
        # rounding, and an f16 output by at most one more f16 rounding.
        f16_out = args["c"].dtype == np.float16
        bound = 2.0 ** -10 if f16_out else 1e-5 * f["a"].shape[1]
        return {"c": f["a"] @ f["b"]}, bound
    if kernel in ("matmul_wgmma", "matmul_wgmma_async"):
        # c = a @ bt^T, with the bounds of matmul_f16.
        f16_out = args["c"].dtype == np.float16
        bound = 2.0 ** -10 if f16_out else 1e-5 * f["a"].shape[1]
        return {"c": f["a"] @ f["bt"].T}, bound
    if kernel in ("matmul_f16_sm90a", "matmul_f16_sm90a_ws"):
        # c = a @ bt^T through TMA and wgmma, with matmul_wgmma's bounds.
        f16_out = args["c"].dtype == np.float16
        bound = 2.0 ** -10 if f16_out else 1e-5 * f["a"].shape[1]
        return {"c": f["a"] @ f["bt"].T}, bound
    if kernel == "transpose":
        return {"y": f["x"].T}, 0.0
    if kernel == "thread_index":
        x = f["x"]
        return {"y": x + np.arange(x.size)}, 0.0
    if kernel == "control_flow":
        # 8 iterations add t, one adds 2t, one subtracts t; then min(limit,
        # 100) ones; then five times 1000.
        x = f["x"]
        return {"y": x * 9 + min(max(f["limit"], 0), 100) + 5000}, 0.0
    raise SystemExit(f"no reference for kernel {kernel}")


def evaluate(expr, scalars):
    """A grid or shape expression: integers, parameters, + - * / %, cdiv."""
    env = dict(scalars)
    env.update(cdiv=lambda a, b: -(-a // b), min=min, max=max)
    return int(eval(re.sub(r"(?<![/])/(?![/])", "//", expr), {}, env))


def main():
    workdir, source = sys.argv[1], sys.argv[2]
    defines, scalars = [], {}
    rest = sys.argv[3:]
    while rest:
        item = rest.pop(0)
        if item == "-D":
            defines += ["-D", rest.pop(0)]
            continue
        if item.startswith("--"):
            defines.append(item)
            continue
        name, value = item.split("=")
        scalars[name] = float(value) if "." in value else int(value)
    ptx = os.path.join(workdir, "kernel.ptx")
    meta = os.path.join(workdir, "kernel.json")
    subprocess.run(["tilusc", source, "-o", ptx, f"--metadata={meta}"] + defines,
                   check=True)
    kernel = json.load(open(meta))["kernels"][0]
    rng = np.random.default_rng(1234)
    args, run_args, buffers = {}, [], {}
    for index, p in enumerate(kernel["params"]):
        if p["global"]:
            shape = [evaluate(e, scalars) for e in p["shape"]]
            if p["dtype"].startswith("i"):
                data = rng.integers(-1000, 1000, shape).astype(
                    NP_TYPES[p["dtype"]])
            else:
                data = rng.uniform(-1.0, 1.0, shape).astype(
                    NP_TYPES[p["dtype"]])
            # Non-zero inputs, so that a kernel that skips an input or
            # writes zeros cannot pass.
            data[data == 0] = 1
            path = os.path.join(workdir, p["name"] + ".bin")
            data.tofile(path)
            args[p["name"]] = data
            buffers[p["name"]] = (index, shape, p["dtype"])
            run_args += ["--arg", f"buf:{path}"]
        else:
            value = scalars[p["name"]]
            args[p["name"]] = value
            run_args += ["--arg", f"{p['dtype']}:{value}"]
    expected, tolerance = reference(kernel["name"], args, kernel["constants"])
    grid = ",".join(str(evaluate(e, scalars)) for e in kernel["grid"])
    command = ["tilus-run", ptx, "--kernel", kernel["name"], "--grid", grid,
               "--block", str(kernel["numThreads"]),
               "--smem", str(kernel["sharedBytes"])] + run_args
    if kernel.get("tensorMaps"):
        # tilus-run builds the hidden tensor maps of TMA copies from the
        # metadata and the tensor arguments.
        command += ["--metadata", meta]
    for name in expected:
        index = buffers[name][0]
        command += ["--dump", f"{index}:{os.path.join(workdir, name + '.out')}"]
    subprocess.run(command, check=True)
    failed = False
    for name, want in expected.items():
        _, shape, dtype = buffers[name]
        got = np.fromfile(os.path.join(workdir, name + ".out"),
                          dtype=NP_TYPES[dtype]).reshape(shape)
        # The exact result rounded once to the output type is what a correct
        # kernel stores when its arithmetic is exact.
        want = want.astype(NP_TYPES[dtype]).astype(np.float64)
        err = np.abs(got.astype(np.float64) - want)
        bound = tolerance * (1.0 + np.abs(want))
        bad = np.argwhere(~(err <= bound))
        if bad.size:
            i = tuple(bad[0])
            print(f"FAIL {name}: {len(bad)} of {got.size} elements differ; "
                  f"first {name}{list(i)} = {got[i]!r}, expected {want[i]!r} "
                  f"(tolerance {bound[i]:.3g})")
            failed = True
        else:
            print(f"OK {name}: all {got.size} elements within "
                  f"{tolerance:g} * (1 + |expected|)")
    sys.exit(1 if failed else 0)


main()
