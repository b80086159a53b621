"""Runs the stmatrix kernels of stmatrix.ptx through tilus-run and checks
every 16-bit element of the shared buffer against the PTX ISA's stmatrix
definition (9.7.14.5.16): in each 8x8 matrix k, lane t holds row t / 4,
columns 2 (t % 4) + {0, 1} in the low and high half of register k; with
.trans the matrix is stored transposed (that fragment element goes to row
2 (t % 4) + {0, 1}, column t / 4). Row r of matrix k is stored at the
address lane 8 k + r gives.

usage: stmatrix_check.py TILUS_RUN PTX WORKDIR
Prints 'OK: <kernel>' per kernel, or 'FAIL: <kernel> ...' and exits 1.
"""
import os
import subprocess
import sys

import numpy as np

tool, ptx, work = sys.argv[1:4]
os.makedirs(work, exist_ok=True)
failed = False


def held(lane, k, half):
    """The value lane `lane` holds in half `half` of register k."""
    return 0x1000 + 2 * (32 * k + lane) + half


for num in (1, 2, 4):
    for trans in (False, True):
        name = "st_x%d%s" % (num, "_trans" if trans else "")
        path = os.path.join(work, name + ".bin")
        r = subprocess.run([tool, ptx, "--kernel", name, "--grid", "1",
                            "--block", "32", "--arg", "buf:zeros:1024",
                            "--dump", "0:" + path],
                           capture_output=True, text=True)
        if r.returncode != 0:
            print("FAIL: %s: %s" % (name, r.stderr.strip()))
            failed = True
            continue
        got = np.fromfile(path, dtype=np.uint16).reshape(64, 8)
        want = np.zeros((64, 8), dtype=np.uint16)
        for k in range(num):
            for row in range(8):
                lane = 8 * k + row
                slot = 2 * (8 * num - 1 - lane)
                for col in range(8):
                    # The fragment element (fr, fc) stored at (row, col).
                    fr, fc = (col, row) if trans else (row, col)
                    want[slot, col] = held(4 * fr + fc // 2, k, fc % 2)
        bad = np.argwhere(got != want)
        if bad.size:
            i, j = bad[0]
            print("FAIL: %s: row %d column %d: got %#x want %#x (%d wrong)"
                  % (name, i, j, got[i, j], want[i, j], len(bad)))
            failed = True
        else:
            print("OK: %s" % name)
sys.exit(1 if failed else 0)
