"""Runs each command (one per argument, split on spaces) in its own process
and prints its exit status, CPU seconds and peak memory; then whether the
first's cost is within 2x (plus 0.5 s of CPU) of the second's."""
import os
import subprocess
import sys

costs = []
for cmd in sys.argv[1:]:
    proc = subprocess.Popen(cmd.split(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    cpu = usage.ru_utime + usage.ru_stime
    costs.append((cpu, usage.ru_maxrss))
    print(f"status {os.waitstatus_to_exitcode(status)} cpu {cpu:.3f} s peak {usage.ru_maxrss} KB: {cmd}")
(c0, m0), (c1, m1) = costs[0], costs[1]
print("within 2x:", c0 <= 2 * c1 + 0.5 and m0 <= 2 * m1)
