"""Runs Inputs/atomic_add.tl on the emulator with numpy inputs and checks
every output: the sum of the partials, the count left at 0, the arrivals
each block saw (each of 0 .. PARTS-1 exactly once), the second element's
total, and 0 from the add outside the tensor.

  atomic_add_check.py WORKDIR SOURCE PARTS
"""
import json
import os
import subprocess
import sys

import numpy as np

work, source, parts = sys.argv[1], sys.argv[2], int(sys.argv[3])
block = 128
ptx, meta = os.path.join(work, "arrive.ptx"), os.path.join(work, "arrive.json")
subprocess.run(["tilusc", source, "-D", f"PARTS={parts}", "-o", ptx,
                f"--metadata={meta}"], check=True)
kernel = json.load(open(meta))["kernels"][0]
rng = np.random.default_rng(5)
x = rng.uniform(-1, 1, (parts, block)).astype(np.float32)
x.tofile(os.path.join(work, "x.bin"))
count = np.array([0, 100], dtype=np.int32)
count.tofile(os.path.join(work, "count.bin"))
dumps = {2: "count.out", 3: "seen.out", 4: "out.out"}
cmd = ["tilus-run", ptx, "--kernel", "arrive", "--grid", str(parts),
       "--block", str(kernel["numThreads"]), "--smem", str(kernel["sharedBytes"]),
       "--arg", f"buf:{os.path.join(work, 'x.bin')}",
       "--arg", f"buf:zeros:{parts * block * 4}",
       "--arg", f"buf:{os.path.join(work, 'count.bin')}",
       "--arg", f"buf:zeros:{parts * 2 * 4}",
       "--arg", f"buf:zeros:{block * 4}"]
for index, name in dumps.items():
    cmd += ["--dump", f"{index}:{os.path.join(work, name)}"]
subprocess.run(cmd, check=True)
left = np.fromfile(os.path.join(work, "count.out"), dtype=np.int32)
seen = np.fromfile(os.path.join(work, "seen.out"), dtype=np.int32).reshape(parts, 2)
out = np.fromfile(os.path.join(work, "out.out"), dtype=np.float32)
want = (2.0 * x.astype(np.float64)).sum(axis=0)
err = np.abs(out - want).max()
print("count reset:", left[0] == 0)
print("second element:", left[1], "expected", 100 + sum(range(parts)))
print("arrivals each seen once:", sorted(seen[:, 0].tolist()) == list(range(parts)))
print("outside gives 0:", not seen[:, 1].any())
print("sum ok:", bool(err <= parts * 2.0 ** -22 * np.abs(2 * x).max()), f"(max error {err:.3g})")
