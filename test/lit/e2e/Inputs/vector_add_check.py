"""Random inputs for vector_add and an elementwise check of its output.

  vector_add_check.py make DIR N      writes DIR/a.bin, DIR/b.bin (N f32 each)
  vector_add_check.py check DIR N     compares DIR/c.bin with a + b
"""
import sys

import numpy as np

mode, directory, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
rng = np.random.default_rng(20261126 + n)
a = rng.uniform(-100.0, 100.0, n).astype(np.float32)
b = rng.uniform(-100.0, 100.0, n).astype(np.float32)
if mode == "make":
    a.tofile(f"{directory}/a.bin")
    b.tofile(f"{directory}/b.bin")
    sys.exit(0)
c = np.fromfile(f"{directory}/c.bin", dtype=np.float32)
expected = (a.astype(np.float64) + b.astype(np.float64)).astype(np.float32)
if c.shape != expected.shape:
    print(f"FAIL: {c.size} elements, expected {n}")
    sys.exit(1)
bad = np.nonzero(c != expected)[0]
if bad.size:
    i = bad[0]
    print(f"FAIL: {bad.size} of {n} elements differ; first c[{i}] = {c[i]!r}, expected {expected[i]!r}")
    sys.exit(1)
print(f"OK: all {n} elements equal a + b")
