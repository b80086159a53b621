"""The profile through the Python package (C API underneath): vector_add on
the emulator with profiling on, whole and with 2 of its CTAs sampled."""
import sys

import numpy as np

sys.path.insert(0, sys.argv[1] + "/python")
import tilus  # noqa: E402

dev = tilus.Device("emu")
k = dev.compile_file(sys.argv[1] + "/examples/vector_add.tl", BLOCK=256)
n = 4096
a = np.random.default_rng(1).standard_normal(n).astype(np.float32)
b = np.random.default_rng(2).standard_normal(n).astype(np.float32)
c = np.zeros(n, np.float32)
dev.enable_profiling()
k.launch(a, b, c, n)
print("c ok:", bool(np.array_equal(c, a + b)))
p = dev.last_profile(["h100"])
m = p["metrics"]
print("requests", m["l1tex__t_requests_pipe_lsu_mem_global_op_ld.sum"],
      "sectors", m["l1tex__t_sectors_pipe_lsu_mem_global_op_ld.sum"],
      "dram read", m["dram__bytes_read.sum"])
print("model", sorted(p["model"]), p["model"]["H100-SXM5"]["bound"] != "")
dev.enable_profiling(True, sample_ctas=2)
k.launch(a, b, c, n)
q = dev.last_profile("h100")
print("sampled", q["sampled_ctas"], "same counts", q["metrics"] == m)
try:
    dev.last_profile(["v100"])
except tilus.TilusError as e:
    print("error:", e)
