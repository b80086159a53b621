"""Runs unsigned_constants.tl on the emulator and checks every element with
numpy: u8 arithmetic wraps modulo 256, u16 max compares unsigned."""
import sys

import numpy as np

sys.path.insert(0, sys.argv[1] + "/python")
import tilus  # noqa: E402

dev = tilus.Device("emu")
k = dev.compile_file(sys.argv[2])
rng = np.random.default_rng(3)
n = 32
codes = rng.integers(0, 16, n)
a = tilus.pack(codes, "u4")
b = rng.integers(0, 256, n).astype(np.uint8)
b0 = b.copy()
c = rng.integers(0, 65536, n).astype(np.uint16)
c0 = c.copy()
k(a, b, c, n)
print("u4 copied:", np.array_equal(tilus.unpack(a), codes))
print("u8 y * 200 + 0 + 255:",
      np.array_equal(b, ((b0.astype(np.int64) * 200 + 255) % 256).astype(np.uint8)))
print("u16 max(z, 40000):", np.array_equal(c, np.maximum(c0, 40000)))
