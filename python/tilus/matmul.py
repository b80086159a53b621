"""The low-bit matmul from Python: quantise a weight matrix, pack it once,
multiply f16/bf16 activations by it (examples/matmul_a16wx.tl, docs/matmul.md).

    import numpy as np, tilus
    q = tilus.quantize(w, "u4", group=128)          # w: K x N floats
    mm = tilus.MatmulA16Wx(tilus.Device("emu"), "u4", group=128,
                           zero_point=q.zeros is not None)
    packed = mm.pack(q.codes)                        # once, for every M
    c = mm(a, packed, q.scales, q.zeros)             # a: M x K f16
"""

import numpy as np

from . import (Device, DeviceBuffer, TilusError, View, _check, _is_torch_tensor,
               decode, encode, library, matmul_config, pack_weights)

_ACTIVATIONS = ("f16", "bf16")


def weight_bits(dtype):
    """The width in bits of a weight type (u1..u8, i2..i8, f3..f8 formats)."""
    import ctypes
    size = ctypes.c_uint64()
    _check(library().tilus_packed_size(dtype.encode(), 8, ctypes.byref(size)))
    return size.value


def round_to(values, dtype):
    """`values` (float64) rounded to `dtype` as the kernel rounds: to nearest
    even, saturating."""
    v = np.asarray(values, dtype=np.float64)
    return decode(encode(v, dtype), dtype).reshape(v.shape)


class QuantizedWeight:
    """Codes (K x N uint8, B-bit two's complement for signed types), scales
    and zero points (K/G x N float64, each exact in the activation type, or
    None) of a weight matrix."""

    def __init__(self, codes, scales, zeros, dtype, group, act):
        self.codes, self.scales, self.zeros = codes, scales, zeros
        self.dtype, self.group, self.act = dtype, group, act

    def dequantize(self):
        """The K x N weights the kernel multiplies by, rounded as it does:
        (value - zero) to the activation type, times scale, to it again."""
        values = decode(self.codes.astype(np.uint64),
                        self.dtype).reshape(self.codes.shape)
        rows = np.arange(self.codes.shape[0]) // self.group
        if self.zeros is not None:
            values = round_to(values - self.zeros[rows], self.act)
        return round_to(values * self.scales[rows], self.act)


def quantize(w, dtype="u4", group=128, zero_point=None, act="f16"):
    """Round-to-nearest quantisation of a K x N weight matrix, one scale per
    group of `group` rows and column: asymmetric with zero points for
    unsigned types (the default for them), symmetric for signed and float
    types. The simple baseline that GPTQ/AWQ checkpoints are compared with."""
    if act not in _ACTIVATIONS:
        raise TilusError(f"activation type '{act}' is not f16 or bf16")
    if _is_torch_tensor(w):
        w = w.detach().to("cpu").double().numpy()
    w = np.asarray(w, dtype=np.float64)
    if w.ndim != 2:
        raise TilusError(f"weights: expected a K x N matrix, got {w.ndim} "
                         "dimensions")
    if not np.all(np.isfinite(w)):
        raise TilusError("weights: not every value is finite")
    k, n = w.shape
    if group < 1 or k % group:
        raise TilusError(f"K = {k} is not a multiple of the group size "
                         f"{group}")
    bits = weight_bits(dtype)
    kind = dtype[0]
    if zero_point is None:
        zero_point = kind == "u"
    if zero_point and kind != "u":
        raise TilusError(f"zero points apply to unsigned weight types, not "
                         f"'{dtype}'")
    g = w.reshape(k // group, group, n)
    rows = np.arange(k) // group
    zeros = None
    if kind == "u":
        top = 2**bits - 1
        lo, hi = g.min(axis=1), g.max(axis=1)
        if zero_point:
            lo, hi = np.minimum(lo, 0), np.maximum(hi, 0)
            scales = _scales((hi - lo) / top, act)
            zeros = round_to(np.clip(np.rint(-lo / scales), 0, top), act)
            q = np.rint(w / scales[rows] + zeros[rows])
        else:
            if lo.min() < 0:
                raise TilusError(f"'{dtype}' weights without zero points "
                                 "cannot be negative: quantise with "
                                 "zero_point=True or a signed type")
            scales = _scales(hi / top, act)
            q = np.rint(w / scales[rows])
        codes = np.clip(q, 0, top).astype(np.uint8)
    elif kind == "i":
        top = 2**(bits - 1) - 1
        scales = _scales(np.abs(g).max(axis=1) / top, act)
        q = np.clip(np.rint(w / scales[rows]), -top - 1, top).astype(np.int64)
        codes = (q & (2**bits - 1)).astype(np.uint8)
    else:
        values = decode(np.arange(2**bits, dtype=np.uint64), dtype)
        largest = np.abs(values[np.isfinite(values)]).max()
        scales = _scales(np.abs(g).max(axis=1) / largest, act)
        codes = encode(w / scales[rows], dtype).reshape(k, n).astype(
            np.uint8)
    return QuantizedWeight(codes, scales, zeros, dtype, group, act)


def _scales(raw, act):
    """Scales rounded to the activation type; an all-zero group gets 1."""
    s = round_to(np.where(raw > 0, raw, 1.0), act)
    if np.any(s == 0) or not np.all(np.isfinite(s)):
        raise TilusError(f"a group's scale is not a normal {act} value")
    return s


class PackedWeights:
    """Weights in matmul_a16wx's layout for tiles BN x BK (which depend only
    on N, K, the weight type and the group, so one packing serves every M)."""

    def __init__(self, data, k, n, tile):
        self.data, self.k, self.n, self.tile = data, k, n, tuple(tile)


class MatmulA16Wx:
    """c = a @ dequantize(b) on a tilus device: the tile and split-K from
    the configuration table per problem, each tile's kernel compiled once
    (and cached on disk by the JIT), the split-K workspace kept."""

    def __init__(self, device=None, weight_type="u4", group=128, act="f16",
                 zero_point=False):
        if act not in _ACTIVATIONS:
            raise TilusError(f"activation type '{act}' is not f16 or bf16")
        self.device = device if device is not None else Device()
        self.weight_type, self.group, self.act = weight_type, group, act
        self.zero_point = bool(zero_point)
        self.bits = weight_bits(weight_type)
        self._kernels = {}
        self._partial = self._arrivals = None

    def config(self, m, n, k):
        """(BM, BN, BK, SPLITK) for an M x N x K problem."""
        return matmul_config(m, n, k, self.bits, self.group)

    def pack(self, codes):
        """Packs K x N codes (uint8, below 2**bits) for this matmul."""
        c = np.asarray(codes)
        if c.ndim != 2:
            raise TilusError(f"weight codes: expected a K x N array, got "
                             f"{c.ndim} dimensions")
        k, n = c.shape
        tile = self.config(1, n, k)
        return PackedWeights(pack_weights(c, self.bits, tile), k, n, tile)

    def kernel(self, tile):
        source = library().tilus_matmul_source()
        if source is None:
            raise TilusError("this libtilus is the runtime core, built "
                             "without the compiler")
        key = tuple(tile)
        if key not in self._kernels:
            bm, bn, bk, split = key
            self._kernels[key] = self.device.compile(
                source.decode(), "matmul_a16wx.tl", kernel="matmul_a16wx",
                W=self.weight_type, T=self.act, G=self.group,
                ZP=int(self.zero_point), BM=bm, BN=bn, BK=bk, SPLITK=split)
        return self._kernels[key]

    def __call__(self, a, b, scales, zeros=None, out=None):
        """The M x N product. `a`: M x K activations (a numpy float16 array,
        a torch f16/bf16 tensor, or for bf16 a numpy uint16 array of bits);
        `b`: from `pack`; `scales`, `zeros`: K/G x N (any floats, rounded to
        the activation type). Returns `out` (allocated when None: a torch
        tensor for torch input, else numpy float16 for f16 and float32
        values for bf16)."""
        if not isinstance(b, PackedWeights):
            raise TilusError("b: pass the weights that MatmulA16Wx.pack "
                             "returned")
        if self.zero_point and zeros is None:
            raise TilusError("this matmul subtracts zero points: pass zeros")
        m, k = int(a.shape[0]), int(a.shape[1])
        n = b.n
        if k != b.k:
            raise TilusError(f"a has K = {k} columns, the weights {b.k} rows")
        tile = self.config(m, n, k)
        if tuple(tile[1:3]) != b.tile[1:3]:
            raise TilusError(f"the weights were packed for BN x BK = "
                             f"{b.tile[1]} x {b.tile[2]}, this problem's "
                             f"tile is {tile[1]} x {tile[2]}")
        torch_out = _is_torch_tensor(a)
        a_arg = self._activations(a, "a")
        s_arg = self._side(scales, "scales", n, k)
        z_arg = self._side(zeros, "zeros", n, k) if zeros is not None \
            else s_arg
        result = out
        if out is None:
            if torch_out:
                import torch
                result = torch.empty((m, n), dtype=a.dtype)
                out = result
            else:
                out = np.empty((m, n), np.float16 if self.act == "f16"
                               else np.uint16)
        c_arg = View(out, self.act) if isinstance(out, np.ndarray) else out
        partial, arrivals = self._workspace(tile, m, n)
        self.kernel(tile)(a_arg, b.data, s_arg, z_arg, c_arg, partial,
                          arrivals, m, n, k)
        if result is None:
            result = out if self.act == "f16" else decode(
                out.astype(np.uint64), "bf16").reshape(m, n).astype(
                    np.float32)
        return result

    def _activations(self, a, what):
        if _is_torch_tensor(a):
            want = {"f16": "torch.float16", "bf16": "torch.bfloat16"}[self.act]
            if str(a.dtype) != want:
                raise TilusError(f"{what}: expected a {want} tensor, got "
                                 f"{a.dtype}")
            return a
        arr = np.asarray(a)
        ok = np.float16 if self.act == "f16" else np.uint16
        if arr.dtype != ok:
            raise TilusError(f"{what}: expected a numpy {np.dtype(ok).name} "
                             f"array for {self.act}, got {arr.dtype}")
        return View(arr, self.act)

    def _side(self, x, what, n, k):
        """Scales or zero points as an array of the activation type."""
        want_torch = {"f16": "torch.float16", "bf16": "torch.bfloat16"}
        if _is_torch_tensor(x) and str(x.dtype) == want_torch[self.act]:
            return x  # already rounded; the launch checks its size
        if _is_torch_tensor(x):
            x = x.detach().to("cpu").double().numpy()
        x = np.asarray(x, dtype=np.float64)
        want = (-(-k // self.group), n)
        if x.shape != want:
            raise TilusError(f"{what}: expected shape {want}, got {x.shape}")
        if self.act == "f16":
            return round_to(x, "f16").astype(np.float16)
        return View(encode(x, "bf16").astype(np.uint16).reshape(x.shape),
                    "bf16")

    def _workspace(self, tile, m, n):
        """Split-K's f32 slices and zeroed arrival counts, kept between
        calls (every launch leaves the counts at zero); without split-K the
        kernel touches neither, and empty buffers stand in."""
        bm, bn, _, split = tile
        if split == 1:
            return _Unused("f32"), _Unused("i32")
        partial_bytes = split * m * n * 4
        arrival_bytes = (-(-m // bm)) * (n // bn) * 4
        if self._partial is None or self._partial.nbytes < partial_bytes:
            self._partial = DeviceBuffer(self.device, partial_bytes, "f32")
        if self._arrivals is None or self._arrivals.nbytes < arrival_bytes:
            self._arrivals = DeviceBuffer(self.device, arrival_bytes, "i32")
            self._arrivals.upload(np.zeros(arrival_bytes // 4, np.int32))
        return self._partial, self._arrivals


class _Unused(DeviceBuffer):
    """A buffer argument of no bytes that the kernel does not touch."""

    def __init__(self, dtype):  # noqa: super().__init__ would allocate
        self.device, self.nbytes, self.dtype, self.ptr = None, 0, dtype, 0
