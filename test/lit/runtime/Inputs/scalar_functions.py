"""Runs scalar_functions.tl on the emulator; every element checked with
numpy, within the .approx functions' error (docs/codegen.md)."""
import sys

import numpy as np

sys.path.insert(0, sys.argv[1] + "/python")
import tilus  # noqa: E402

k = tilus.Device("emu").compile_file(sys.argv[2])
rng = np.random.default_rng(7)
n, eps = 32, 2.75
a = rng.uniform(0.5, 1.5, n).astype(np.float32)
b = rng.uniform(0.5, 1.5, n).astype(np.float16)
a0, b0 = a.astype(np.float64), b.astype(np.float64)
k(a, b, n, eps)
e = (np.exp(-eps) + np.log(eps) + np.sqrt(eps) + np.tanh(eps) + np.sin(eps)
     + np.cos(eps) + np.exp2(eps) + np.log2(eps) + eps + 2 + 3 + 3)
want_a = a0 / np.sqrt(eps + 1) + e
print("f32 scalars:", np.allclose(a, want_a, rtol=1e-4, atol=0))


def bf16(x):
    """x rounded to bf16 (to nearest, ties to even), as a float."""
    u = int(np.array(x, np.float32).view(np.uint32))
    u = (u + 0x7fff + ((u >> 16) & 1)) & 0xffff0000
    return float(np.array(u, np.uint32).view(np.float32))


h = float(np.float16(eps))
g = bf16(np.exp(bf16(eps)))
want_b = b0 / np.sqrt(h) + 2 + g
print("f16 and bf16 scalars, folded sqrt(4.0):",
      np.allclose(b.astype(np.float64), want_b, rtol=2e-3, atol=0))
