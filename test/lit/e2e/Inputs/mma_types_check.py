"""Run Inputs/mma_types.tl on the emulator with random inputs and check every
element of c against numpy.

  mma_types_check.py WORKDIR T A m n k [-D NAME=VALUE]...

Integer inputs cover their whole range (i8 in [-128, 127], u8 in [0, 255])
and must match the int64 product exactly. f16 inputs are uniform in [-1, 1];
an f16 accumulator is rounded once per mma (per 16-deep k-step), so c[i, j]
may differ from the exact sum by up to 2^-10 (k / 16 + 1) (S + 1), S the sum
of |a[i, p] b[p, j]|: half an f16 ulp of a partial sum at most S per k-step,
and the f16 rounding of the output.
Prints the PTX's mma.sync forms and one OK/FAIL line.
"""
import json
import os
import re
import subprocess
import sys

import numpy as np

NP = {"i8": np.int8, "u8": np.uint8, "i32": np.int32, "f16": np.float16}


def main():
    workdir, t, acc = sys.argv[1], sys.argv[2], sys.argv[3]
    m, n, k = (int(v) for v in sys.argv[4:7])
    defines = ["-D", f"T={t}", "-D", f"A={acc}"] + sys.argv[7:]
    source = os.path.join(os.path.dirname(__file__), "mma_types.tl")
    ptx = os.path.join(workdir, "mma_types.ptx")
    meta = os.path.join(workdir, "mma_types.json")
    subprocess.run(["tilusc", source, "-o", ptx, f"--metadata={meta}"] +
                   defines, check=True)
    kernel = json.load(open(meta))["kernels"][0]
    text = open(ptx).read()
    forms = sorted(set(re.findall(r"mma\.sync\.aligned\.[\w.]+", text)))
    print("PTX:", " ".join(forms) if forms else "no mma.sync")
    rng = np.random.default_rng(7)
    if t == "f16":
        a = rng.uniform(-1, 1, (m, k)).astype(np.float16)
        b = rng.uniform(-1, 1, (k, n)).astype(np.float16)
    else:
        info = np.iinfo(NP[t])
        a = rng.integers(info.min, info.max, (m, k), endpoint=True).astype(NP[t])
        b = rng.integers(info.min, info.max, (k, n), endpoint=True).astype(NP[t])
    paths = []
    for name, data in (("a", a), ("b", b)):
        paths.append(os.path.join(workdir, name + ".bin"))
        data.tofile(paths[-1])
    out = os.path.join(workdir, "c.out")
    scalars = {"m": m, "n": n, "k": k}
    scalars.update(cdiv=lambda x, y: -(-x // y))
    grid = ",".join(str(eval(e.replace("/", "//"), {}, scalars))
                    for e in kernel["grid"])
    c_bytes = m * n * np.dtype(NP[acc]).itemsize
    subprocess.run(["tilus-run", ptx, "--kernel", "mma_types", "--grid", grid,
                    "--block", str(kernel["numThreads"]),
                    "--smem", str(kernel["sharedBytes"]),
                    "--arg", f"buf:{paths[0]}", "--arg", f"buf:{paths[1]}",
                    "--arg", f"buf:zeros:{c_bytes}", "--arg", f"i32:{m}",
                    "--arg", f"i32:{n}", "--arg", f"i32:{k}",
                    "--dump", f"2:{out}"], check=True)
    got = np.fromfile(out, dtype=NP[acc]).reshape(m, n)
    if t == "f16":
        a64, b64 = a.astype(np.float64), b.astype(np.float64)
        want = a64 @ b64
        bound = 2.0 ** -10 * (k / 16 + 1) * (np.abs(a64) @ np.abs(b64) + 1)
        err = np.abs(got.astype(np.float64) - want)
        bad = np.argwhere(~(err <= bound))
        worst = float(np.max(err / bound))
        detail = f"within the f16 accumulation bound (worst {worst:.2f} of it)"
    else:
        want = a.astype(np.int64) @ b.astype(np.int64)
        bad = np.argwhere(got.astype(np.int64) != want)
        detail = "exactly equal to the int64 product"
    if bad.size:
        i = tuple(bad[0])
        print(f"FAIL c: {len(bad)} of {got.size} elements differ; first "
              f"c{list(i)} = {got[i]!r}, expected {want[i]!r}")
        sys.exit(1)
    print(f"OK c: all {got.size} elements {detail}")


main()
