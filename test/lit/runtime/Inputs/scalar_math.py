"""Runs scalar_math.tl on the emulator; every element checked with numpy
(float64 reference, tolerance of PTX's .approx functions)."""
import sys

import numpy as np

sys.path.insert(0, sys.argv[1] + "/python")
import tilus  # noqa: E402

k = tilus.Device("emu").compile_file(sys.argv[2])
rng = np.random.default_rng(9)
n, eps, h = 32, 0.37, 1.5
a = rng.uniform(-1, 1, n).astype(np.float32)
b = rng.uniform(-1, 1, n).astype(np.float16)
a0, b0 = a.astype(np.float64), b.astype(np.float64)
k(a, b, n, eps, h)
e32 = np.float64(np.float32(eps))
e = (np.exp(-e32) + np.log2(e32 + 2) + np.sqrt(e32) + np.tanh(e32) + np.sin(e32) + np.cos(e32)
     + abs(-e32) + np.floor(e32) + np.ceil(e32) + np.round(e32))
expect_a = a0 / np.sqrt(e32) + e + 0.5
expect_b = b0 + 2.0 ** h
print("f32 scalars:", bool(np.allclose(a[:32], expect_a[:32], rtol=1e-3, atol=1e-3)),
      "max err %.2g" % np.max(np.abs(a - expect_a)))
print("f16 from an f32 scalar:", bool(np.allclose(b.astype(np.float64), expect_b, rtol=2e-3, atol=2e-3)))
