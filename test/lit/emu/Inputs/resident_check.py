"""Runs resident.ptx's 'resident' kernel through tilus-run with every CTA
resident at once, checks every output element, and prints the peak memory
(resident set) of the tilus-run process.

usage: resident_check.py TILUS_RUN PTX WORKDIR CTAS THREADS SMEM MAX_MIB
                         [TILUS_RUN_OPTION ...]
Prints 'OK: N CTAs of T threads, S bytes of dynamic shared memory: peak
memory M MiB' or 'FAIL: ...' (exit status 1) when the run fails, an element
differs or the peak is over MAX_MIB.
"""
import os
import resource
import subprocess
import sys

import numpy as np

tool, ptx, work = sys.argv[1:4]
ctas, threads, smem, max_mib = map(int, sys.argv[4:8])
extra = sys.argv[8:]
os.makedirs(work, exist_ok=True)
counter = os.path.join(work, "counter.bin")
out = os.path.join(work, "out.bin")
np.zeros(1, np.uint32).tofile(counter)
np.full(ctas * threads, 7, np.uint32).tofile(out)
cmd = [tool, ptx, "--kernel", "resident", "--grid", str(ctas), "--block",
       str(threads), "--smem", str(smem), "--arg", "buf:" + counter, "--arg",
       "buf:" + out, "--dump", "1:" + out + ".out"] + extra
r = subprocess.run(cmd, capture_output=True, text=True)
if r.returncode != 0:
    print("FAIL: tilus-run: " + r.stderr.strip())
    sys.exit(1)
got = np.fromfile(out + ".out", np.uint32).reshape(ctas, threads)
cta = np.arange(ctas)[:, None]
tid = np.arange(threads)[None, :]
want = cta * 1000 + (tid + 1) % threads
if (got != want).any():
    bad = np.argwhere(got != want)[:4]
    print("FAIL: %d elements differ, first at (cta, tid) %s" %
          ((got != want).sum(), bad.tolist()))
    sys.exit(1)
# ru_maxrss of the children is in KiB on Linux.
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0
if peak > max_mib:
    print("FAIL: peak memory %.0f MiB, over the bound of %d MiB" %
          (peak, max_mib))
    sys.exit(1)
print("OK: %d CTAs of %d threads, %d bytes of dynamic shared memory: peak "
      "memory %.0f MiB" % (ctas, threads, smem, peak))
