"""tilus.autotune on the emulator: the performance model's time picks one of
several BLOCK sizes per key bucket; trials leave the caller's output alone
(the kernel accumulates into c); choices come back from memory, then from
disk; bad keys and configurations are errors that say why."""
import os
import sys

import numpy as np

sys.path.insert(0, sys.argv[1] + "/python")
import tilus  # noqa: E402

SOURCE = """
kernel acc_add<BLOCK = 256>(a: global f32[n], c: global f32[n], n: i32)
  grid(cdiv(n, BLOCK)) warps(4)
{
  offset = blockIdx.x * BLOCK;
  x = load_global(a, [offset], [BLOCK]);
  y = load_global(c, [offset], [BLOCK]);
  store_global(c, x + y, [offset]);
}
"""
CONFIGS = [{"BLOCK": 128}, {"BLOCK": 256}, {"BLOCK": "abc"}, {"BLOCK": 1024}]

dev = tilus.Device("emu")
tuner = tilus.autotune(CONFIGS, key="n", source=SOURCE, device=dev)
print("compiled", [k is not None for k in tuner.kernels])
print("error of BLOCK=abc:", tuner.errors[2].splitlines()[0])

rng = np.random.default_rng(7)
for n in (1000, 1020, 3000):
    a = rng.standard_normal(n).astype(np.float32)
    c = rng.standard_normal(n).astype(np.float32)
    c0 = c.copy()
    choice = tuner.choose(a, c, n)
    times = [t["time_us"] for t in choice["trials"]]
    ok = [t for t in times if t is not None]
    print(f"n={n} bucket={choice['bucket']} basis={choice['basis']} "
          f"picked the fastest: {times[choice['index']] == min(ok)} "
          f"failed trial: {choice['trials'][2]['error'] != ''}")
    print("  c untouched by the trials:", bool(np.array_equal(c, c0)))
    tuner(a, c, n)
    print("  c = c + a:", bool(np.array_equal(c, c0 + a)))

# A new tuner over the same configurations reads the choice from disk.
again = tilus.autotune(CONFIGS, key=["n"], source=SOURCE, device=dev)
a = rng.standard_normal(1000).astype(np.float32)
c = np.zeros(1000, np.float32)
choice = again.choose(a, c, 1000)
print("second tuner:", choice["basis"], choice["bucket"], choice["config"] ==
      tuner.choose(a, c, 1000)["config"])

for bad in (dict(key="a"), dict(key="m")):
    try:
        tilus.autotune(CONFIGS, source=SOURCE, device=dev, **bad)
    except tilus.TilusError as e:
        print("error:", str(e))
try:
    tilus.autotune([{"BLOCK": "x"}], source=SOURCE, device=dev)
except tilus.TilusError as e:
    print("error:", str(e).splitlines()[0], e.code)
try:
    tilus.autotune(CONFIGS, source=SOURCE, device=dev, gpu="V100")
except tilus.TilusError as e:
    print("error:", str(e).split(" (")[0])
