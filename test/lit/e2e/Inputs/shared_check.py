"""Random inputs and elementwise checks of the shared-memory kernels
shared_transpose.mlir, shared_copy_async.mlir, shared_loop.mlir and
(test/lit/codegen/) shared-ptx.mlir.

  shared_check.py make transpose|copy|groups|loop DIR M N    writes DIR/a.bin
  shared_check.py check transpose|copy|groups|loop DIR M N   checks DIR/out.bin

transpose: a is M x N f32; out must be its N x M transpose.
copy: a is M x N f16; out is the padded (M rounded up to 32) x (N rounded up
to 64) array of the copied tiles: a where a has elements, zero elsewhere
(the zero fill of elements outside a).
groups: a is M x 8 f32 (N must be 8); rows 0..63 of the M x 8 out are rows
0..63 plus rows 64..127 of a, read as zero past its end.
loop: a is M x 64 f32 (N must be 64); the 16 x 64 out is the sum, in f32 and
in order, of the 16-row blocks of a, the last one zero-padded.
"""
import sys

import numpy as np

mode, kernel, directory = sys.argv[1], sys.argv[2], sys.argv[3]
m, n = int(sys.argv[4]), int(sys.argv[5])
rng = np.random.default_rng(1000 * m + n)
if kernel in ("transpose", "groups", "loop"):
    a = rng.uniform(-100.0, 100.0, (m, n)).astype(np.float32)
else:
    # Nonzero everywhere, so zero fill is told apart from copied elements.
    a = (rng.uniform(0.5, 8.0, (m, n)) *
         rng.choice([-1.0, 1.0], (m, n))).astype(np.float16)
if mode == "make":
    a.tofile(f"{directory}/a.bin")
    sys.exit(0)

if kernel == "transpose":
    expected = a.T
elif kernel == "groups":
    padded = np.zeros((128, 8), np.float32)
    padded[:min(m, 128)] = a[:128]
    expected = np.zeros((m, 8), np.float32)
    rows = min(m, 64)
    expected[:rows] = (padded[:64] + padded[64:])[:rows]
elif kernel == "loop":
    blocks = -(-m // 16)
    padded = np.zeros((blocks * 16, 64), np.float32)
    padded[:m] = a
    expected = np.zeros((16, 64), np.float32)
    for block in range(blocks):
        expected = expected + padded[16 * block:16 * (block + 1)]
else:
    expected = np.zeros((-(-m // 32) * 32, -(-n // 64) * 64), np.float16)
    expected[:m, :n] = a
out = np.fromfile(f"{directory}/out.bin", dtype=expected.dtype)
if out.size != expected.size:
    print(f"FAIL: {out.size} elements, expected {expected.size}")
    sys.exit(1)
out = out.reshape(expected.shape)
bits = np.uint32 if expected.dtype == np.float32 else np.uint16
bad = np.argwhere(out.view(bits) != expected.view(bits))
if bad.size:
    i = tuple(bad[0])
    print(f"FAIL: {len(bad)} of {expected.size} elements differ; first "
          f"out{list(i)} = {out[i]!r}, expected {expected[i]!r}")
    sys.exit(1)
print(f"OK: all {expected.size} elements as expected")
