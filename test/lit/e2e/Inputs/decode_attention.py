"""Runs examples/decode_attention.tl's two kernels on the emulator, the split
kernel's workspaces feeding the combine kernel, and checks every output
element against a float64 numpy softmax attention.

  decode_attention.py WORKDIR SOURCE H L S [-D NAME=VALUE]...

Prints the largest error and one OK/FAIL line; exits with status 1 on a
mismatch.
"""
import json
import os
import subprocess
import sys

import numpy as np

workdir, source = sys.argv[1], sys.argv[2]
h, l, s = (int(a) for a in sys.argv[3:6])
defines = sys.argv[6:]
ptx = os.path.join(workdir, "attention.ptx")
meta = os.path.join(workdir, "attention.json")
subprocess.run(["tilusc", source, "-o", ptx, f"--metadata={meta}"] + defines,
               check=True)
kernels = {k["name"]: k for k in json.load(open(meta))["kernels"]}
d = kernels["decode_attention_split"]["constants"]["D"]
sm_scale = np.float32(1.0 / np.sqrt(d))

rng = np.random.default_rng(7)


def nonzero(shape, scale):
    # Non-zero inputs, so that a kernel that skips one cannot pass.
    x = (rng.uniform(-1.0, 1.0, shape) * scale).astype(np.float16)
    x[x == 0] = 1
    return x


# Keys scaled up so that the softmax is far from uniform and the running
# maximum changes along the sequence.
q = nonzero((h, d), 1.0)
k = nonzero((h, l, d), 3.0)
v = nonzero((h, l, d), 1.0)


def path(name):
    return os.path.join(workdir, name + ".bin")


for name, data in (("q", q), ("k", k), ("v", v)):
    data.tofile(path(name))


def run(kernel, args, dumps):
    command = ["tilus-run", ptx, "--metadata", meta, "--kernel", kernel]
    for a in args:
        command += ["--arg", a]
    for index, name in dumps:
        command += ["--dump", f"{index}:{path(name)}"]
    subprocess.run(command, check=True)


run("decode_attention_split",
    [f"buf:{path('q')}", f"buf:{path('k')}", f"buf:{path('v')}",
     f"buf:zeros:{4 * h * s}", f"buf:zeros:{4 * h * s}",
     f"buf:zeros:{4 * h * s * d}", f"i32:{h}", f"i32:{l}", f"i32:{s}",
     f"f32:{sm_scale!r}"],
    [(3, "ms"), (4, "ls"), (5, "os")])
run("decode_attention_combine",
    [f"buf:{path('ms')}", f"buf:{path('ls')}", f"buf:{path('os')}",
     f"buf:zeros:{2 * h * d}", f"i32:{h}", f"i32:{s}"],
    [(3, "o")])

got = np.fromfile(path("o"), dtype=np.float16).reshape(h, d)
got = got.astype(np.float64)
q64, k64, v64 = (x.astype(np.float64) for x in (q, k, v))
score = np.einsum("hld,hd->hl", k64, q64) * float(sm_scale)
p = np.exp(score - score.max(axis=1, keepdims=True))
want = np.einsum("hl,hld->hd", p / p.sum(axis=1, keepdims=True), v64)
# f32 sums and ex2.approx (2^-22 relative) in the partials, then one f16
# rounding of the output (2^-11 relative, |o| <= 1).
want16 = want.astype(np.float16).astype(np.float64)
err = np.abs(got - want16)
tolerance = 2e-3
bound = tolerance * (1.0 + np.abs(want16))
bad = np.argwhere(~(err <= bound))
print(f"max |o - reference| = {np.max(np.abs(got - want)):.3g}")
if bad.size:
    i = tuple(bad[0])
    print(f"FAIL o: {len(bad)} of {got.size} elements differ; first o{list(i)}"
          f" = {got[i]!r}, expected {want16[i]!r}")
    sys.exit(1)
print(f"OK o: all {got.size} elements within {tolerance:g} * (1 + |expected|)")
