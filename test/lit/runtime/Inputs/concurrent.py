"""Runs N copies of a command at once; prints how many exited 0.

usage: concurrent.py N CACHE_DIR COMMAND... (CACHE_DIR only for messages)
"""
import subprocess
import sys

n = int(sys.argv[1])
cmd = sys.argv[3:]
procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
         for _ in range(n)]
ok = 0
for p in procs:
    out, err = p.communicate()
    if p.returncode == 0:
        ok += 1
    else:
        sys.stderr.write(err.decode())
print(f"{ok} of {n} succeeded")
