"""The Python package on a device (argv[2], default emu): vector_add on random numpy inputs
(every element checked), argument errors, metadata, compile errors, low-bit packing."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(sys.argv[1], "python"))
import tilus  # noqa: E402

example = os.path.join(sys.argv[1], "examples", "vector_add.tl")
rng = np.random.default_rng(11)
dev = tilus.Device(sys.argv[2] if len(sys.argv) > 2 else "emu")
print("device", dev.name, dev.arch)

for block in (1024, 128):
    add = dev.compile_file(example, BLOCK=block)
    for n in (1, block - 1, block, 3 * block + 5, int(rng.integers(1, 5000))):
        a = rng.standard_normal(n).astype(np.float32)
        b = rng.standard_normal(n).astype(np.float32)
        c = np.full(n, np.nan, dtype=np.float32)
        stats = add(a, b, c, n, timed=True)
        assert np.array_equal(c, a + b), (block, n)
        assert stats["warp_instructions"] > 0 or dev.name != "emu"
        assert add.grid(a, b, c, n) == ((n + block - 1) // block, 1, 1)
    print("vector_add BLOCK", block, "ok")

info = add.info
print("params", [(p["name"], p["dtype"], p["shape"]) for p in info["params"]])
print("grid", info["grid"], "threads", info["numThreads"])

n = 256
a = np.zeros(n, np.float32)
for args, what in [((a, a, a), "count"),
                   ((a, a.astype(np.float16), a, n), "dtype"),
                   ((a, a, a[:100], n), "size"),
                   ((a, a, a, 2**40), "range")]:
    try:
        add(*args)
        print("no error for", what)
    except tilus.TilusError as e:
        print(what, "error:", e)

# A strided array goes through a contiguous copy (an output is copied back).
s = rng.standard_normal(2 * n).astype(np.float32)
c = np.zeros(n, np.float32)
add(s[::2], a, c, n)
print("strided", "ok" if np.array_equal(c, s[::2] + a) else "WRONG")
# A View passes an array as another element type (packed low-bit data).
a = rng.standard_normal(n).astype(np.float32)
c = np.zeros(n, np.float32)
add(tilus.View(a.view(np.uint32), "f32"), a, c, n)
assert np.array_equal(c, a + a)
try:
    add(tilus.View(a, "u4"), a, c, n)
except tilus.TilusError as e:
    print("view error:", e)
# The C API answers a null handle with an error, not a crash.
lib = tilus.library()
print("null handle:", lib.tilus_launch(None, None, 0, 0, None),
      lib.tilus_last_error().decode())

# Precompiled PTX with its metadata, as the runtime core loads it.
inputs = os.path.join(sys.argv[1], "test", "unit", "runtime", "Inputs")
loaded = dev.load(open(os.path.join(inputs, "vector_add.ptx")).read(),
                  open(os.path.join(inputs, "vector_add.json")).read())
a = rng.standard_normal(1000).astype(np.float32)
c = np.empty_like(a)
loaded(a, a, c, 1000)
assert np.array_equal(c, a + a)
print("precompiled", loaded.name, loaded.info["constants"])
try:
    dev.compile("kernel broken(", "broken.tl")
except tilus.TilusError as e:
    print("compile error:", str(e).splitlines()[0])
# Tiles past a thread's register budget or past what a layout describes are
# compile errors, not an abort of this process.
huge = os.path.join(sys.argv[1], "test", "lit", "passes", "Inputs",
                    "huge-extent.tl")
for path, defines in ((example, {"BLOCK": 65536}), (huge, {"B": 65536})):
    try:
        dev.compile_file(path, **defines)
    except tilus.TilusError as e:
        print("too large:", str(e).splitlines()[0])

# Packing: element i occupies bits [i*n, (i+1)*n), LSB first.
for dtype, bits in (("u4", 4), ("i3", 3), ("u1", 1)):
    codes = rng.integers(0, 2**bits, size=int(rng.integers(1, 200)))
    packed = tilus.pack(codes, dtype, codes=True)
    ref = np.zeros((len(codes) * bits + 7) // 8, np.uint8)
    for i, c in enumerate(codes):
        for k in range(bits):
            if (int(c) >> k) & 1:
                bit = i * bits + k
                ref[bit // 8] |= 1 << (bit % 8)
    assert np.array_equal(packed.data, ref), dtype
    assert np.array_equal(tilus.unpack(packed), codes), dtype
values = np.array([0.5, 1.0, -2.0, 6.0, 0.0, -0.5])
assert np.array_equal(tilus.decode(tilus.unpack(tilus.pack(values, "f4e2m1")),
                                   "f4e2m1"), values)
print("packing ok")
