"""matmul_a16wx through the Python package on the emulator: the tile from
tilus.matmul_config, u4 weights packed by tilus.pack_weights (byte-identical
to tilus-pack-weights), every element of c checked against numpy."""
import os
import subprocess
import sys

import numpy as np

root, work = sys.argv[1], sys.argv[2]
sys.path.insert(0, os.path.join(root, "python"))
import tilus  # noqa: E402

m, n, k, group = 5, 128, 256, 128
tile = tilus.matmul_config(m, n, k, 4, group)
print("tile", tile)
rng = np.random.default_rng(3)
codes = rng.integers(0, 16, (k, n), dtype=np.uint8)
packed = tilus.pack_weights(codes, 4, tile)

codes.tofile(os.path.join(work, "codes.bin"))
subprocess.run(["tilus-pack-weights", "--bits", "4", "--k", str(k), "--n",
                str(n), "--group", str(group), "--m", str(m),
                os.path.join(work, "codes.bin"), os.path.join(work, "b.bin")],
               check=True, capture_output=True)
same = np.array_equal(np.fromfile(os.path.join(work, "b.bin"), np.uint8),
                      packed)
print("tool and package agree:", same)

dev = tilus.Device("emu")
defines = dict(W="u4", G=group, BM=tile[0], BN=tile[1], BK=tile[2],
               SPLITK=tile[3])
mm = dev.compile_file(os.path.join(root, "examples", "matmul_a16wx.tl"),
                      **defines)
a = rng.uniform(-1, 1, (m, k)).astype(np.float16)
scales = (rng.uniform(0.5, 1.5, (k // group, n)) / 15).astype(np.float16)
zeros = np.zeros_like(scales)
c = np.zeros((m, n), dtype=np.float16)
partial = np.zeros((tile[3], m, n), dtype=np.float32)
arrivals = np.zeros((-(-m // tile[0]), n // tile[1]), dtype=np.int32)
mm(a, packed, scales, zeros, c, partial, arrivals, m, n, k)

w = (codes.astype(np.float16) * np.repeat(scales, group, axis=0)).astype(
    np.float64)
want = a.astype(np.float64) @ w
bound = 2.0 ** -11 * np.abs(want) + k * 2.0 ** -23 * (
    np.abs(a.astype(np.float64)) @ np.abs(w)) + 2.0 ** -24
err = np.abs(c.astype(np.float64) - want)
print("c ok" if np.all(err <= bound) else
      f"c FAIL: {np.count_nonzero(err > bound)} of {c.size} elements")
print("arrivals left at zero:", not arrivals.any())

print("split", tilus.matmul_config(1, 4096, 4096, 4, 128))
try:
    tilus.matmul_config(1, 100, 256, 4, 128)
except tilus.TilusError as e:
    print("error:", e)
try:
    tilus.pack_weights(codes, 4, (16, 64, 32))
except tilus.TilusError as e:
    print("error:", e)
