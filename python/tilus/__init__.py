"""tilus: compile and launch tile kernels from Python, over libtilus's C API.

    import numpy as np, tilus
    dev = tilus.Device("emu")                      # or "cuda", or None
    add = dev.compile_file("examples/vector_add.tl", BLOCK=1024)
    a, b = np.random.rand(2, 1000).astype(np.float32)
    c = np.empty_like(a)
    add(a, b, c, 1000)                             # c = a + b

Arguments are numpy arrays (copied to the device and back around the
launch), PyTorch tensors (their data_ptr() is passed as is, on the current
CUDA stream), `Packed` low-bit data from `pack`, `DeviceBuffer`s, or
Python ints and floats. libtilus is found through TILUS_LIBRARY, else next
to an installed package, else in the repository's build folders.
"""

import ctypes
import glob
import json
import os
import sys

__all__ = ["Device", "Kernel", "DeviceBuffer", "Packed", "View",
           "TilusError", "pack", "unpack", "encode", "decode", "library",
           "matmul_config", "pack_weights"]


class TilusError(RuntimeError):
    """A failure reported by libtilus, with its message."""


class _Arg(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_int32), ("dtype", ctypes.c_char_p),
                ("ptr", ctypes.c_uint64), ("bytes", ctypes.c_uint64),
                ("int_value", ctypes.c_int64), ("float_value", ctypes.c_double)]


class _Stats(ctypes.Structure):
    _fields_ = [("milliseconds", ctypes.c_double),
                ("warp_instructions", ctypes.c_uint64)]


_ARG_BUFFER, _ARG_INT, _ARG_FLOAT = 0, 1, 2


def _candidates():
    env = os.environ.get("TILUS_LIBRARY")
    if env:
        yield env
    here = os.path.dirname(os.path.abspath(__file__))
    # Installed: <prefix>/share/tilus/python/tilus -> <prefix>/lib*.
    prefix = os.path.normpath(os.path.join(here, "..", "..", "..", ".."))
    for libdir in ("lib", "lib64"):
        yield os.path.join(prefix, libdir, "libtilus.so")
    # The repository: python/tilus -> build*/lib.
    repo = os.path.normpath(os.path.join(here, "..", ".."))
    yield from sorted(glob.glob(os.path.join(repo, "build*", "lib",
                                             "libtilus.so")))


_lib = None


def library():
    """The loaded libtilus (ctypes.CDLL), loading it on first use."""
    global _lib
    if _lib is not None:
        return _lib
    tried = []
    for path in _candidates():
        if os.path.exists(path):
            _lib = ctypes.CDLL(path)
            break
        tried.append(path)
    if _lib is None:
        raise TilusError("libtilus.so not found (set TILUS_LIBRARY); tried: "
                         + ", ".join(tried))
    L = _lib
    c_char_pp = ctypes.POINTER(ctypes.c_char_p)
    vp = ctypes.c_void_p
    sigs = {
        "tilus_last_error": ([], ctypes.c_char_p),
        "tilus_version": ([], ctypes.c_char_p),
        "tilus_has_compiler": ([], ctypes.c_int),
        "tilus_device_create": ([ctypes.c_char_p, ctypes.POINTER(vp)], ctypes.c_int),
        "tilus_device_destroy": ([vp], None),
        "tilus_device_name": ([vp], ctypes.c_char_p),
        "tilus_device_description": ([vp], ctypes.c_char_p),
        "tilus_device_arch": ([vp], ctypes.c_char_p),
        "tilus_device_enable_profiling": ([vp, ctypes.c_int, ctypes.c_int], ctypes.c_int),
        "tilus_device_last_profile": ([vp, ctypes.c_char_p, c_char_pp], ctypes.c_int),
        "tilus_malloc": ([vp, ctypes.c_uint64, ctypes.POINTER(ctypes.c_uint64)], ctypes.c_int),
        "tilus_free": ([vp, ctypes.c_uint64], ctypes.c_int),
        "tilus_memcpy_htod": ([vp, ctypes.c_uint64, vp, ctypes.c_uint64], ctypes.c_int),
        "tilus_memcpy_dtoh": ([vp, vp, ctypes.c_uint64, ctypes.c_uint64], ctypes.c_int),
        "tilus_synchronize": ([vp, ctypes.c_uint64], ctypes.c_int),
        "tilus_compile": ([vp, ctypes.c_char_p, ctypes.c_char_p, c_char_pp,
                           ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(vp)], ctypes.c_int),
        "tilus_compile_file": ([vp, ctypes.c_char_p, c_char_pp, ctypes.c_int,
                                ctypes.c_char_p, ctypes.POINTER(vp)], ctypes.c_int),
        "tilus_load": ([vp, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p,
                        ctypes.c_char_p, ctypes.POINTER(vp)], ctypes.c_int),
        "tilus_kernel_destroy": ([vp], None),
        "tilus_kernel_info": ([vp], ctypes.c_char_p),
        "tilus_launch": ([vp, ctypes.POINTER(_Arg), ctypes.c_int, ctypes.c_uint64,
                          ctypes.POINTER(_Stats)], ctypes.c_int),
        "tilus_kernel_grid": ([vp, ctypes.POINTER(_Arg), ctypes.c_int,
                               ctypes.POINTER(ctypes.c_uint32)], ctypes.c_int),
        "tilus_encode": ([ctypes.c_char_p, vp, ctypes.c_size_t, vp], ctypes.c_int),
        "tilus_decode": ([ctypes.c_char_p, vp, ctypes.c_size_t, vp], ctypes.c_int),
        "tilus_packed_size": ([ctypes.c_char_p, ctypes.c_uint64,
                               ctypes.POINTER(ctypes.c_uint64)], ctypes.c_int),
        "tilus_pack": ([ctypes.c_char_p, vp, ctypes.c_size_t, vp], ctypes.c_int),
        "tilus_unpack": ([ctypes.c_char_p, vp, ctypes.c_size_t, vp], ctypes.c_int),
        "tilus_matmul_config": ([ctypes.c_int64, ctypes.c_int64, ctypes.c_int64,
                                 ctypes.c_int, ctypes.c_int64,
                                 ctypes.POINTER(ctypes.c_int64)], ctypes.c_int),
        "tilus_pack_weights": ([vp, ctypes.c_int64, ctypes.c_int64, ctypes.c_int,
                                ctypes.c_int64, ctypes.c_int64, vp], ctypes.c_int),
    }
    for name, (args, res) in sigs.items():
        fn = getattr(L, name)
        fn.argtypes = args
        fn.restype = res
    return L


def _check(rc):
    if rc != 0:
        raise TilusError(library().tilus_last_error().decode())


def _b(s):
    return None if s is None else s.encode()


# Element types of numpy and PyTorch arrays, by their names there.
_NUMPY_DTYPES = {"float32": "f32", "float16": "f16", "int8": "i8",
                 "int16": "i16", "int32": "i32", "int64": "i64",
                 "uint8": "u8", "uint16": "u16", "uint32": "u32",
                 "uint64": "u64", "bool": "bool"}
_TORCH_DTYPES = {"torch.float32": "f32", "torch.float16": "f16",
                 "torch.bfloat16": "bf16", "torch.int8": "i8",
                 "torch.int16": "i16", "torch.int32": "i32",
                 "torch.int64": "i64", "torch.uint8": "u8",
                 "torch.bool": "bool", "torch.float8_e4m3fn": "f8e4m3",
                 "torch.float8_e5m2": "f8e5m2"}


class Packed:
    """Low-bit elements densely packed LSB-first into bytes (numpy uint8)."""

    def __init__(self, data, dtype, count):
        self.data, self.dtype, self.count = data, dtype, count

    def __repr__(self):
        return f"Packed({self.count} x {self.dtype}, {self.data.nbytes} bytes)"


class View:
    """An array or tensor passed as a buffer of another element type: packed
    low-bit data in a torch.uint8 tensor is `View(t, "u4")`."""

    def __init__(self, base, dtype):
        self.base, self.dtype = base, dtype


def _is_torch_tensor(a):
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(a, torch.Tensor)


def encode(values, dtype):
    """Codes (numpy uint64) of `values` in `dtype`, rounded to nearest even."""
    import numpy as np
    v = np.ascontiguousarray(values, dtype=np.float64).ravel()
    codes = np.empty(v.size, dtype=np.uint64)
    _check(library().tilus_encode(_b(dtype), v.ctypes.data, v.size,
                                  codes.ctypes.data))
    return codes


def decode(codes, dtype):
    """The values (numpy float64) that `codes` denote in `dtype`."""
    import numpy as np
    c = np.ascontiguousarray(codes, dtype=np.uint64).ravel()
    out = np.empty(c.size, dtype=np.float64)
    _check(library().tilus_decode(_b(dtype), c.ctypes.data, c.size,
                                  out.ctypes.data))
    return out


def pack(values, dtype, codes=False):
    """Prepares low-bit weights: rounds `values` to `dtype` (or takes them
    as codes when `codes`) and packs them; returns a `Packed`."""
    import numpy as np
    c = (np.ascontiguousarray(values, dtype=np.uint64).ravel() if codes
         else encode(values, dtype))
    size = ctypes.c_uint64()
    _check(library().tilus_packed_size(_b(dtype), c.size, ctypes.byref(size)))
    out = np.zeros(size.value, dtype=np.uint8)
    _check(library().tilus_pack(_b(dtype), c.ctypes.data, c.size,
                                out.ctypes.data))
    return Packed(out, dtype, c.size)


def unpack(packed):
    """The codes (numpy uint64) of a `Packed`."""
    import numpy as np
    out = np.empty(packed.count, dtype=np.uint64)
    data = np.ascontiguousarray(packed.data, dtype=np.uint8)
    _check(library().tilus_unpack(_b(packed.dtype), data.ctypes.data,
                                  packed.count, out.ctypes.data))
    return out


def matmul_config(m, n, k, bits, group):
    """The block tile and split-K (BM, BN, BK, SPLITK) of matmul_a16wx for an
    M x N x K problem with `bits`-bit weights in groups of `group`
    (docs/matmul.md). BN and BK depend only on N, K, bits and group; with
    SPLITK > 1 the kernel also takes its f32 `partial` (SPLITK x M x N) and
    i32 `arrivals` (cdiv(M, BM) x N / BN, zero, left zero) buffers."""
    tile = (ctypes.c_int64 * 4)()
    _check(library().tilus_matmul_config(m, n, k, bits, group, tile))
    return tuple(tile)


def pack_weights(codes, bits, tile):
    """Packs a K x N array of weight codes (integers below 2**bits) into
    matmul_a16wx's weight layout for `tile`, as matmul_config returns it
    (BM, BN, BK[, SPLITK]: BN and BK decide the layout); returns the uint8
    numpy array to pass as the kernel's `b`."""
    import numpy as np
    c = np.ascontiguousarray(codes, dtype=np.uint8)
    k, n = c.shape
    bn, bk = tile[1], tile[2]
    out = np.zeros(k * n * bits // 8, dtype=np.uint8)
    _check(library().tilus_pack_weights(c.ctypes.data, k, n, bits, bn, bk,
                                        out.ctypes.data))
    return out


class DeviceBuffer:
    """Device memory of `nbytes` bytes holding elements of `dtype`."""

    def __init__(self, device, nbytes, dtype=None):
        self.device, self.nbytes, self.dtype = device, nbytes, dtype
        ptr = ctypes.c_uint64()
        _check(library().tilus_malloc(device._h, nbytes, ctypes.byref(ptr)))
        self.ptr = ptr.value

    def upload(self, array):
        import numpy as np
        a = np.ascontiguousarray(array)
        _check(library().tilus_memcpy_htod(self.device._h, self.ptr,
                                           a.ctypes.data, a.nbytes))

    def download(self, array):
        _check(library().tilus_memcpy_dtoh(self.device._h, array.ctypes.data,
                                           self.ptr, array.nbytes))

    def __del__(self):
        if getattr(self, "ptr", 0) and self.device._h:
            library().tilus_free(self.device._h, self.ptr)
            self.ptr = 0


class Device:
    """A device: "emu", "cuda", "cuda:N", or None for TILUS_DEVICE/default."""

    def __init__(self, name=None):
        h = ctypes.c_void_p()
        _check(library().tilus_device_create(_b(name), ctypes.byref(h)))
        self._h = h

    @property
    def name(self):
        return library().tilus_device_name(self._h).decode()

    @property
    def description(self):
        return library().tilus_device_description(self._h).decode()

    @property
    def arch(self):
        return library().tilus_device_arch(self._h).decode()

    def _defines(self, defines):
        items = [f"{k}={v}".encode() for k, v in defines.items()]
        return (ctypes.c_char_p * max(len(items), 1))(*items), len(items)

    def compile(self, source, filename="<source>", kernel=None, **defines):
        """Compiles .tl `source` with compile-time parameter values."""
        arr, n = self._defines(defines)
        h = ctypes.c_void_p()
        _check(library().tilus_compile(self._h, _b(source), _b(filename), arr,
                                       n, _b(kernel), ctypes.byref(h)))
        return Kernel(self, h)

    def compile_file(self, path, kernel=None, **defines):
        arr, n = self._defines(defines)
        h = ctypes.c_void_p()
        _check(library().tilus_compile_file(self._h, _b(str(path)), arr, n,
                                            _b(kernel), ctypes.byref(h)))
        return Kernel(self, h)

    def load(self, image, metadata_json, kernel=None):
        """Loads precompiled PTX (str) or cubin (bytes) with its metadata."""
        data = image.encode() if isinstance(image, str) else bytes(image)
        h = ctypes.c_void_p()
        _check(library().tilus_load(self._h, data, len(data),
                                    _b(metadata_json), _b(kernel),
                                    ctypes.byref(h)))
        return Kernel(self, h)

    def synchronize(self, stream=0):
        _check(library().tilus_synchronize(self._h, stream))

    def enable_profiling(self, on=True, sample_ctas=0):
        """Emulator: count what each later launch does (docs/profiling.md);
        sample_ctas > 0 runs that many CTAs of each grid and scales."""
        _check(library().tilus_device_enable_profiling(self._h, int(on),
                                                       int(sample_ctas)))

    def last_profile(self, gpus=None):
        """The last launch's profile as a dict: "metrics" (exact counts) and
        "model" (modelled times per GPU; gpus: names, default all)."""
        import json
        out = ctypes.c_char_p()
        names = ",".join(gpus) if isinstance(gpus, (list, tuple)) else gpus
        _check(library().tilus_device_last_profile(self._h, _b(names),
                                                   ctypes.byref(out)))
        return json.loads(out.value.decode())

    def __del__(self):
        if getattr(self, "_h", None):
            library().tilus_device_destroy(self._h)
            self._h = None


class Kernel:
    """A launchable kernel; call it with the kernel's arguments in order."""

    def __init__(self, device, handle):
        self.device, self._h = device, handle
        self.info = json.loads(
            library().tilus_kernel_info(handle).decode())["kernels"][0]

    @property
    def name(self):
        return self.info["name"]

    def _marshal(self, args):
        """C arguments, plus the (device buffer, numpy array) pairs to copy
        back after the launch."""
        args_c = (_Arg * max(len(args), 1))()
        keep, copy_back = [], []
        for i, a in enumerate(args):
            c = args_c[i]
            view = None
            if isinstance(a, View):
                view, a = a.dtype, a.base
            tname = type(a).__module__ + "." + type(a).__name__
            is_tensor = _is_torch_tensor(a)
            if isinstance(a, DeviceBuffer):
                c.kind, c.ptr, c.bytes, c.dtype = (_ARG_BUFFER, a.ptr, a.nbytes,
                                                   _b(a.dtype))
            elif isinstance(a, Packed):
                buf = DeviceBuffer(self.device, max(a.data.nbytes, 1), a.dtype)
                buf.upload(a.data)
                keep.append(buf)
                c.kind, c.ptr, c.bytes, c.dtype = (_ARG_BUFFER, buf.ptr,
                                                   a.data.nbytes, _b(a.dtype))
            elif is_tensor and a.is_cuda:
                if self.device.name == "emu":
                    raise TilusError(f"argument {i}: a CUDA tensor cannot go "
                                     "to the emulator; pass a CPU tensor")
                if not a.is_contiguous():
                    raise TilusError(f"argument {i}: the tensor is not "
                                     "contiguous")
                c.kind, c.ptr = _ARG_BUFFER, a.data_ptr()
                c.bytes = a.numel() * a.element_size()
                c.dtype = _b(_TORCH_DTYPES.get(str(a.dtype)))
            elif hasattr(a, "__array_interface__") or is_tensor:
                import numpy as np
                arr = a.detach().numpy() if is_tensor else a
                if not isinstance(arr, np.ndarray) or arr.ndim == 0:
                    raise TilusError(f"argument {i}: not an array")
                if not arr.flags.c_contiguous:
                    raise TilusError(f"argument {i}: the array is not "
                                     "contiguous (np.ascontiguousarray)")
                dtype = _NUMPY_DTYPES.get(arr.dtype.name)
                buf = DeviceBuffer(self.device, max(arr.nbytes, 1), dtype)
                buf.upload(arr)
                keep.append(buf)
                if arr.flags.writeable:
                    copy_back.append((buf, arr))
                c.kind, c.ptr, c.bytes, c.dtype = (_ARG_BUFFER, buf.ptr,
                                                   arr.nbytes, _b(dtype))
            elif isinstance(a, bool) or isinstance(a, int) or (
                    hasattr(a, "dtype") and a.dtype.kind in "iub"):
                c.kind, c.int_value = _ARG_INT, int(a)
            elif isinstance(a, float) or (hasattr(a, "dtype")
                                          and a.dtype.kind == "f"):
                c.kind, c.float_value = _ARG_FLOAT, float(a)
            else:
                raise TilusError(f"argument {i}: cannot pass a {tname}")
            if view is not None:
                if c.kind != _ARG_BUFFER:
                    raise TilusError(f"argument {i}: View of a scalar")
                c.dtype = _b(view)
        return args_c, keep, copy_back

    def grid(self, *args):
        args_c, _, _ = self._marshal(args)
        g = (ctypes.c_uint32 * 3)()
        _check(library().tilus_kernel_grid(self._h, args_c, len(args), g))
        return tuple(g)

    def launch(self, *args, stream=None, timed=False):
        """Checks the arguments, launches, copies numpy arrays back. The
        stream defaults to PyTorch's current stream on a GPU. Returns
        {"milliseconds", "warp_instructions"} when `timed`."""
        args_c, keep, copy_back = self._marshal(args)
        if stream is None:
            stream = _torch_stream(args) if self.device.name != "emu" else 0
        stats = _Stats()
        _check(library().tilus_launch(self._h, args_c, len(args), stream,
                                      ctypes.byref(stats) if timed else None))
        for buf, arr in copy_back:
            buf.download(arr)
        del keep
        if timed:
            return {"milliseconds": stats.milliseconds,
                    "warp_instructions": stats.warp_instructions}
        return None

    __call__ = launch

    def __del__(self):
        if getattr(self, "_h", None):
            library().tilus_kernel_destroy(self._h)
            self._h = None


def _torch_stream(args):
    for a in args:
        if isinstance(a, View):
            a = a.base
        if _is_torch_tensor(a) and a.is_cuda:
            return sys.modules["torch"].cuda.current_stream(a.device).cuda_stream
    return 0
