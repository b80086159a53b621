"""Tensor intake of the Python package on the emulator: every kind of array
is written back or refused before the launch, values that do not fit are
refused, never masked or wrapped. argv[2] == "torch" runs the torch part."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(sys.argv[1], "python"))
import tilus  # noqa: E402

rng = np.random.default_rng(7)
dev = tilus.Device("emu")
add = dev.compile_file(os.path.join(sys.argv[1], "examples", "vector_add.tl"),
                       BLOCK=128)
print("written", [(p["name"], p.get("written")) for p in add.info["params"]])


def refused(what, f):
    try:
        f()
        print(what, "NOT REFUSED")
    except tilus.TilusError as e:
        print(what, "refused:", e)
        assert e.code == "invalid_argument", e.code


n = 300
a = rng.standard_normal(n).astype(np.float32)
b = rng.standard_normal(n).astype(np.float32)

# Element types: float64 is f64, which an f32 parameter refuses; types with
# no tilus counterpart are refused by name.
refused("float64", lambda: add(a.astype(np.float64), b, np.zeros(n, np.float32), n))
refused("complex", lambda: add(a.astype(np.complex64), b, np.zeros(n, np.float32), n))
refused("object", lambda: add(np.array([object()] * n), b, np.zeros(n, np.float32), n))
refused("str", lambda: add(np.array(["x"] * n), b, np.zeros(n, np.float32), n))

# Read-only: an input may be, an output may not.
ro = a.copy()
ro.flags.writeable = False
c = np.zeros(n, np.float32)
add(ro, b, c, n)
assert np.array_equal(c, a + b)
out = np.zeros(n, np.float32)
out.flags.writeable = False
refused("read-only output", lambda: add(a, b, out, n))
assert not out.any()

# Strided inputs and outputs go through contiguous copies; the output is
# written back into the strided view and nothing else.
wide = rng.standard_normal(3 * n).astype(np.float32)
dst = np.full(2 * n, -7.0, np.float32)
add(wide[::3], b, dst[::2], n)
assert np.array_equal(dst[::2], wide[::3] + b)
assert np.all(dst[1::2] == -7.0)
print("strided ok")


# Any object with the array interface or DLPack, used in place.
class Iface:
    def __init__(self, arr):
        self.__array_interface__ = arr.__array_interface__
        self.keep = arr


class DLPack:
    def __init__(self, arr):
        self.arr = arr

    def __dlpack__(self, stream=None):
        return self.arr.__dlpack__()

    def __dlpack_device__(self):
        return self.arr.__dlpack_device__()


c = np.zeros(n, np.float32)
add(Iface(a), DLPack(b), Iface(c), n)
assert np.array_equal(c, a + b)
print("interfaces ok")
refused("DLPack output", lambda: add(a, b, DLPack(np.zeros(n, np.float32)), n))


class CudaIface:
    __cuda_array_interface__ = {"data": (1 << 40, False), "shape": (n,),
                                "typestr": "<f4", "version": 3}


refused("cuda array on emu", lambda: add(a, b, CudaIface(), n))

# Integers are checked, never wrapped modulo 2**64.
refused("2**64+1000", lambda: add(a, b, c, 2**64 + 1000))
refused("2**70", lambda: add(a, b, c, 2**70))
refused("-2**64", lambda: add(a, b, c, -2**64))

# A Packed output is written back (it used to be uploaded and lost).
quant = dev.compile("""
kernel quant<BLOCK = 256>(x: global u8[n], o: global u4[n], n: i32 %256)
  grid(cdiv(n, BLOCK)) warps(4)
{
  t = load_global(x, [blockIdx.x * BLOCK], [BLOCK]);
  store_global(o, cast(t, u4), [blockIdx.x * BLOCK]);
}
""", "quant.tl")
m = 512
x = rng.integers(0, 16, size=m).astype(np.uint8)
o = tilus.Packed(np.zeros(m // 2, np.uint8), "u4", m)
quant(x, o, m)
assert np.array_equal(tilus.unpack(o), x.astype(np.uint64)), "packed output"
assert o.data.any()
print("packed output ok")
frozen = tilus.Packed(np.zeros(m // 2, np.uint8), "u4", m)
frozen.data.flags.writeable = False
refused("read-only packed output", lambda: quant(x, frozen, m))

# Codes, counts and tiles that do not fit are refused.
refused("decode 1<<40", lambda: tilus.decode([1 << 40], "u4"))
refused("decode 1<<70", lambda: tilus.decode([1 << 70], "u4"))
refused("decode -1", lambda: tilus.decode([-1], "u4"))
refused("unpack 10**8", lambda: tilus.unpack(
    tilus.Packed(np.zeros(1, np.uint8), "u4", 10**8)))
refused("unpack 100000", lambda: tilus.unpack(
    tilus.Packed(np.zeros(1, np.uint8), "u4", 100000)))
refused("unpack -1", lambda: tilus.unpack(
    tilus.Packed(np.zeros(1, np.uint8), "u4", -1)))
refused("pack 200 as u4", lambda: tilus.pack([200], "u4", codes=True))
refused("pack -1", lambda: tilus.pack([-1], "u4", codes=True))
tile = tilus.matmul_config(1, 256, 256, 4, 128)
refused("pack_weights 200", lambda: tilus.pack_weights(
    np.full((256, 256), 200), 4, tile))
refused("pack_weights tile", lambda: tilus.pack_weights(
    np.full((256, 256), 2), 4, (16,)))
refused("pack_weights 1-d", lambda: tilus.pack_weights(
    np.full(256, 2), 4, tile))
codes = rng.integers(0, 16, size=(256, 256))
assert tilus.pack_weights(codes, 4, tile).size == 256 * 256 // 2
print("codes ok")
try:
    dev.compile("kernel broken(", "broken.tl")
except tilus.TilusError as e:
    print("compile error code:", e.code)
try:
    tilus.Device("tpu")
except tilus.TilusError as e:
    print("device error code:", e.code)

if len(sys.argv) > 2 and sys.argv[2] == "torch":
    import torch
    ta = torch.from_numpy(a)
    tb = torch.from_numpy(b)
    tc = torch.zeros(n)
    add(ta, tb, tc, n)
    assert torch.equal(tc, ta + tb)
    # A non-contiguous output tensor: written back through a copy.
    grid = torch.full((n, 2), -7.0)
    add(ta, tb, grid[:, 1], n)
    assert torch.equal(grid[:, 1], ta + tb) and bool((grid[:, 0] == -7).all())
    refused("torch float64", lambda: add(ta.double(), tb, tc, n))
    refused("torch complex", lambda: add(ta.to(torch.complex64), tb, tc, n))
    # bf16 has no numpy type; it goes in as its bits.
    bf = torch.randn(256).to(torch.bfloat16)
    bits = tilus.decode(bf.view(torch.int16).numpy().astype(np.uint16), "bf16")
    assert np.array_equal(bits, bf.float().numpy().astype(np.float64))
    print("torch ok")
