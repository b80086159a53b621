"""libtilus exports the C API and the public C++ API only: no LLVM or MLIR
symbol, every function of tilus.h. Then it compiles and runs vector_add in
a process that has already loaded another LLVM globally (as PyTorch or
Triton bring theirs). argv: libtilus.so, the source root, nm."""
import ctypes
import glob
import os
import re
import subprocess
import sys

lib_path, root, nm = sys.argv[1], sys.argv[2], sys.argv[3]
out = subprocess.run([nm, "-DC", "--defined-only", lib_path], check=True,
                     capture_output=True, text=True).stdout
names = [line.split(" ", 2)[2] for line in out.splitlines() if line.count(" ") >= 2]
leaked = [n for n in names if "llvm::" in n or "mlir::" in n]
print("exported:", len(names), "llvm/mlir:", len(leaked))
for n in leaked[:10]:
    print("  leaked:", n)
header = open(os.path.join(root, "include", "tilus", "tilus.h")).read()
api = sorted(set(re.findall(r"\b(tilus_[a-z_]+)\(", header)))
missing = [f for f in api if f not in names]
print("C API functions:", len(api), "missing:", missing)

# Another LLVM first, with its symbols global: a different major version
# when the machine has one.
others = (sorted(glob.glob("/usr/lib/x86_64-linux-gnu/libLLVM-1[0-8]*.so.1"))
          + sorted(glob.glob("/usr/lib/llvm-*/lib/libLLVM.so.1")))
if not others:
    print("another LLVM: none found")
    sys.exit(0)
other = others[0]
ctypes.CDLL(other, mode=ctypes.RTLD_GLOBAL)
print("another LLVM loaded first")

import numpy as np  # noqa: E402
os.environ["TILUS_LIBRARY"] = lib_path
sys.path.insert(0, os.path.join(root, "python"))
import tilus  # noqa: E402

dev = tilus.Device("emu")
add = dev.compile(open(os.path.join(root, "examples", "vector_add.tl")).read(),
                  "vector_add.tl", BLOCK=256)
a = np.random.default_rng(1).standard_normal(1000).astype(np.float32)
c = np.zeros_like(a)
add(a, a, c, 1000)
print("vector_add beside", os.path.basename(other), "ok" if np.array_equal(c, a + a) else "WRONG")
