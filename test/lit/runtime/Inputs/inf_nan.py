"""Runs inf_nan.tl on the emulator; every element checked with numpy."""
import sys

import numpy as np

sys.path.insert(0, sys.argv[1] + "/python")
import tilus  # noqa: E402

k = tilus.Device("emu").compile_file(sys.argv[2])
rng = np.random.default_rng(5)
n = 32
a = rng.uniform(-1, 1, n).astype(np.float32)
b = rng.uniform(-1, 1, n).astype(np.float16)
a0, b0 = a.copy(), b.copy()
k(a, b, n)
expect = np.where(a0 > 0.5, np.float32(np.inf),
                  np.where(a0 < -0.5, a0 - np.float32(np.inf), np.float32(np.nan)))
print("f32 inf/-inf/nan:", np.array_equal(a, expect, equal_nan=True),
      "counts", int(np.isposinf(a).sum()) > 0, int(np.isneginf(a).sum()) > 0,
      int(np.isnan(a).sum()) > 0)
print("f16 max(y, -inf):", np.array_equal(b, b0))
