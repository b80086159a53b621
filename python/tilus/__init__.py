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
           "matmul_config", "pack_weights", "MatmulA16Wx", "PackedWeights",
           "QuantizedWeight", "quantize"]


# tilus_error_code (tilus.h) by name.
ERROR_CODES = {0: "success", 1: "invalid_argument", 2: "no_device",
               3: "no_compiler", 4: "compile", 5: "load", 6: "device",
               7: "out_of_host_memory", 8: "internal"}


class TilusError(RuntimeError):
    """A failure reported by libtilus (or found by the package before a
    call), with its message and `code`, a name of ERROR_CODES."""

    def __init__(self, message, code="invalid_argument"):
        super().__init__(message)
        self.code = code


class _Arg(ctypes.Structure):
    _fields_ = [("kind", ctypes.c_int32), ("dtype", ctypes.c_char_p),
                ("ptr", ctypes.c_uint64), ("bytes", ctypes.c_uint64),
                ("int_value", ctypes.c_int64), ("float_value", ctypes.c_double),
                ("reserved", ctypes.c_uint64 * 2)]


class _Stats(ctypes.Structure):
    _fields_ = [("milliseconds", ctypes.c_double),
                ("warp_instructions", ctypes.c_uint64),
                ("reserved", ctypes.c_uint64 * 6)]


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
        "tilus_matmul_source": ([], ctypes.c_char_p),
        "tilus_last_error_code": ([], ctypes.c_int),
        "tilus_pack_weights": ([vp, ctypes.c_int64, ctypes.c_int64, ctypes.c_int,
                                ctypes.c_int64, ctypes.c_int64, vp], ctypes.c_int),
        "tilus_autotune_create": ([vp, ctypes.c_char_p, ctypes.c_char_p, c_char_pp,
                                   ctypes.c_int, c_char_pp, ctypes.c_int,
                                   ctypes.c_char_p, ctypes.c_char_p,
                                   ctypes.POINTER(vp)], ctypes.c_int),
        "tilus_autotune_destroy": ([vp], None),
        "tilus_autotune_kernel": ([vp, ctypes.c_int, ctypes.POINTER(vp)], ctypes.c_int),
        "tilus_autotune_choose": ([vp, ctypes.POINTER(_Arg), ctypes.c_int,
                                   c_char_pp], ctypes.c_int),
        "tilus_autotune_launch": ([vp, ctypes.POINTER(_Arg), ctypes.c_int,
                                   ctypes.c_uint64, ctypes.POINTER(_Stats)], ctypes.c_int),
    }
    for name, (args, res) in sigs.items():
        fn = getattr(L, name)
        fn.argtypes = args
        fn.restype = res
    return L


def _check(rc):
    if rc != 0:
        L = library()
        raise TilusError(L.tilus_last_error().decode(),
                         ERROR_CODES.get(L.tilus_last_error_code(), "unknown"))


def _b(s):
    return None if s is None else s.encode()


# Element types of numpy and PyTorch arrays, by their names there.
_NUMPY_DTYPES = {"float64": "f64", "float32": "f32", "float16": "f16",
                 "int8": "i8", "int16": "i16", "int32": "i32", "int64": "i64",
                 "uint8": "u8", "uint16": "u16", "uint32": "u32",
                 "uint64": "u64", "bool": "bool"}
_TORCH_DTYPES = {"torch.float64": "f64", "torch.float32": "f32",
                 "torch.float16": "f16", "torch.bfloat16": "bf16",
                 "torch.int8": "i8",
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


def _count(v, what):
    """`v` as an element count: a non-negative integer below 2**63."""
    if isinstance(v, bool) or not isinstance(v, int) and not (
            hasattr(v, "dtype") and v.dtype.kind in "iu"):
        raise TilusError(f"{what}: expected an integer, got {v!r}")
    if not 0 <= int(v) < 2**63:
        raise TilusError(f"{what}: {int(v)} is not a valid count")
    return int(v)


def _codes(values, limit, what):
    """`values` as a numpy integer array whose elements lie in [0, limit):
    a code that does not fit is refused, never masked or wrapped."""
    import numpy as np
    a = np.asarray(values)
    if a.dtype.kind == "O":  # Python integers beyond 64 bits
        flat = a.ravel().tolist()
        if not all(isinstance(v, int) for v in flat):
            raise TilusError(f"{what}s must be integers")
        bad = [v for v in flat if not 0 <= v < limit]
        if bad:
            raise TilusError(f"{what} {bad[0]} is outside [0, "
                             f"2**{limit.bit_length() - 1})")
        return np.array(flat, dtype=np.uint64).reshape(a.shape)
    if a.dtype.kind not in "iub":
        if a.dtype.kind == "f" and np.all(np.isfinite(a)) and np.all(
                a == np.floor(a)):
            a = a.astype(np.float64)
        else:
            raise TilusError(f"{what}s must be integers, got {a.dtype}")
    if a.size and (a.min() < 0 or a.max() >= limit):
        bad = a[(a < 0) | (a >= limit)].flat[0]
        raise TilusError(f"{what} {int(bad)} is outside [0, "
                         f"2**{limit.bit_length() - 1})")
    return a


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
    c = np.ascontiguousarray(_codes(codes, 2**64, "code"),
                             dtype=np.uint64).ravel()
    out = np.empty(c.size, dtype=np.float64)
    _check(library().tilus_decode(_b(dtype), c.ctypes.data, c.size,
                                  out.ctypes.data))
    return out


def pack(values, dtype, codes=False):
    """Prepares low-bit weights: rounds `values` to `dtype` (or takes them
    as codes when `codes`) and packs them; returns a `Packed`."""
    import numpy as np
    c = (np.ascontiguousarray(_codes(values, 2**64, "code"),
                              dtype=np.uint64).ravel() if codes
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
    count = _count(packed.count, "Packed.count")
    size = ctypes.c_uint64()
    _check(library().tilus_packed_size(_b(packed.dtype), count,
                                       ctypes.byref(size)))
    data = np.ascontiguousarray(packed.data, dtype=np.uint8).ravel()
    if data.nbytes < size.value:
        raise TilusError(f"Packed data holds {data.nbytes} bytes; {count} "
                         f"elements of {packed.dtype} need {size.value}")
    out = np.empty(count, dtype=np.uint64)
    _check(library().tilus_unpack(_b(packed.dtype), data.ctypes.data,
                                  count, out.ctypes.data))
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
    if len(tile) < 3:
        raise TilusError(f"tile {tuple(tile)}: expected (BM, BN, BK[, SPLITK])"
                         " as matmul_config returns it")
    c = _codes(codes, 2**bits if 1 <= bits <= 8 else 256, "weight code")
    if c.ndim != 2:
        raise TilusError(f"weight codes: expected a K x N array, got "
                         f"{c.ndim} dimensions")
    c = c.astype(np.uint8)
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

    def __init__(self, device, handle, owner=None):
        # A kernel that `owner` (an Autotuner) holds is destroyed with it.
        self.device, self._h, self._owner = device, handle, owner
        self.info = json.loads(
            library().tilus_kernel_info(handle).decode())["kernels"][0]

    @property
    def name(self):
        return self.info["name"]

    def _marshal(self, args):
        """C arguments, the objects to keep alive through the launch, and
        the copies to make after it (callables)."""
        args_c = (_Arg * max(len(args), 1))()
        params = self.info["params"]
        keep, after = [], []
        for i, a in enumerate(args):
            c = args_c[i]
            param = params[i] if i < len(params) else None
            where = (f"parameter '{param['name']}'" if param
                     else f"argument {i}")
            # Metadata without "written" counts every global as written.
            written = bool(param and param.get("global")
                           and param.get("written", True))
            view = None
            if isinstance(a, View):
                view, a = a.dtype, a.base
            if isinstance(a, DeviceBuffer):
                c.kind, c.ptr, c.bytes, c.dtype = (_ARG_BUFFER, a.ptr, a.nbytes,
                                                   _b(a.dtype))
            elif isinstance(a, Packed):
                self._host_buffer(c, a.data, a.dtype, where, written, keep,
                                  after)
            elif _is_torch_tensor(a) and a.is_cuda:
                self._torch_cuda(c, a, where, written, keep, after)
            elif hasattr(a, "__cuda_array_interface__"):
                self._cuda_interface(c, a, where, written)
            elif _is_torch_tensor(a):
                arr, dtype = _torch_cpu_array(a, where)
                self._host_buffer(c, arr, dtype, where, written, keep, after)
            elif hasattr(a, "__array_interface__") or hasattr(a, "__dlpack__"):
                arr = _host_array(a, where)
                if written and not hasattr(a, "__array_interface__") and \
                        not arr.flags.writeable:
                    raise TilusError(f"{where}: the kernel writes this "
                                     "tensor, and numpy reads DLPack "
                                     "read-only; pass a numpy array, a torch "
                                     "tensor or an object with "
                                     "__array_interface__")
                self._host_buffer(c, arr, _numpy_dtype(arr, where), where,
                                  written, keep, after)
            elif isinstance(a, (bool, int)) or (
                    hasattr(a, "dtype") and a.dtype.kind in "iub"):
                v = int(a)
                if not -2**63 <= v < 2**63:
                    raise TilusError(f"{where}: {v} does not fit a 64-bit "
                                     "integer")
                c.kind, c.int_value = _ARG_INT, v
            elif isinstance(a, float) or (hasattr(a, "dtype")
                                          and a.dtype.kind == "f"):
                c.kind, c.float_value = _ARG_FLOAT, float(a)
            else:
                tname = type(a).__module__ + "." + type(a).__name__
                raise TilusError(f"{where}: cannot pass a {tname}")
            if view is not None:
                if c.kind != _ARG_BUFFER:
                    raise TilusError(f"{where}: View of a scalar")
                c.dtype = _b(view)
        return args_c, keep, after

    def _host_buffer(self, c, arr, dtype, where, written, keep, after):
        """Host memory: uploaded to a device buffer and, when the kernel
        writes it, copied back into `arr` after the launch (strided arrays
        through a contiguous copy)."""
        import numpy as np
        if written and not arr.flags.writeable:
            raise TilusError(f"{where}: the kernel writes this tensor, but "
                             "the array is read-only")
        data = np.ascontiguousarray(arr)
        buf = DeviceBuffer(self.device, max(data.nbytes, 1), dtype)
        buf.upload(data)
        keep.append(buf)
        if written:
            def copy_back(buf=buf, data=data, arr=arr):
                buf.download(data)
                if data is not arr:
                    np.copyto(arr, data)
            after.append(copy_back)
        c.kind, c.ptr, c.bytes, c.dtype = (_ARG_BUFFER, buf.ptr, data.nbytes,
                                           _b(dtype))

    def _check_cuda_device(self, index, where):
        name = self.device.name
        if name == "emu":
            raise TilusError(f"{where}: a CUDA tensor cannot go to the "
                             "emulator; pass a CPU tensor")
        mine = int(name.split(":")[1]) if ":" in name else 0
        if index != mine:
            raise TilusError(f"{where}: the tensor is on cuda:{index}, the "
                             f"kernel's device is {name}")

    def _torch_cuda(self, c, a, where, written, keep, after):
        self._check_cuda_device(a.device.index or 0, where)
        dtype = _TORCH_DTYPES.get(str(a.dtype))
        if dtype is None:
            raise TilusError(f"{where}: {a.dtype} has no tilus element type")
        t = a.detach()
        if not t.is_contiguous():
            t = t.contiguous()
            keep.append(t)
            if written:
                after.append(lambda a=a, t=t: a.detach().copy_(t))
        c.kind, c.ptr = _ARG_BUFFER, t.data_ptr()
        c.bytes = t.numel() * t.element_size()
        c.dtype = _b(dtype)

    def _cuda_interface(self, c, a, where, written):
        """An object with __cuda_array_interface__ (CuPy, Numba): used in
        place; it must be C-contiguous."""
        import numpy as np
        iface = a.__cuda_array_interface__
        ptr, readonly = iface["data"]
        # CuPy names the device; other producers are taken to be on ours.
        self._check_cuda_device(getattr(getattr(a, "device", None), "id", 0),
                                where)
        dt = np.dtype(iface["typestr"])
        shape = tuple(iface["shape"])
        strides = iface.get("strides")
        if strides is not None and tuple(strides) != _c_strides(shape,
                                                                dt.itemsize):
            raise TilusError(f"{where}: the array is not contiguous")
        if written and readonly:
            raise TilusError(f"{where}: the kernel writes this tensor, but "
                             "the array is read-only")
        n = 1
        for e in shape:
            n *= e
        c.kind, c.ptr, c.bytes = _ARG_BUFFER, ptr, n * dt.itemsize
        c.dtype = _b(_numpy_dtype(np.empty(0, dt), where))

    def grid(self, *args):
        args_c, _, _ = self._marshal(args)
        g = (ctypes.c_uint32 * 3)()
        _check(library().tilus_kernel_grid(self._h, args_c, len(args), g))
        return tuple(g)

    def launch(self, *args, stream=None, timed=False):
        """Checks the arguments, launches, copies numpy arrays back. The
        stream defaults to PyTorch's current stream on a GPU. Returns
        {"milliseconds", "warp_instructions"} when `timed`."""
        args_c, keep, after = self._marshal(args)
        if stream is None:
            stream = _torch_stream(args) if self.device.name != "emu" else 0
        stats = _Stats()
        _check(library().tilus_launch(self._h, args_c, len(args), stream,
                                      ctypes.byref(stats) if timed else None))
        for copy in after:
            copy()
        del keep
        if timed:
            return {"milliseconds": stats.milliseconds,
                    "warp_instructions": stats.warp_instructions}
        return None

    __call__ = launch

    def __del__(self):
        if getattr(self, "_h", None) and getattr(self, "_owner", None) is None:
            library().tilus_kernel_destroy(self._h)
        self._h = None


class Autotuner:
    """One `.tl` source compiled once per configuration; each call launches
    the fastest for its arguments. See `autotune`."""

    def __init__(self, device, source, filename, configs, key, defines, options):
        self.device = device
        self.configs = [dict(c) for c in configs]
        if not self.configs:
            raise TilusError("autotune: no configurations to choose from")
        texts = [",".join(f"{k}={v}" for k, v in c.items()).encode()
                 for c in self.configs]
        arr, n = device._defines(defines)
        cfg = (ctypes.c_char_p * len(texts))(*texts)
        h = ctypes.c_void_p()
        _check(library().tilus_autotune_create(
            device._h, _b(source), _b(filename), arr, n, cfg, len(texts),
            _b(",".join(key)), _b(options), ctypes.byref(h)))
        self._h = h
        self.kernels, self.errors = [], []
        for i in range(len(texts)):
            k = ctypes.c_void_p()
            if library().tilus_autotune_kernel(h, i, ctypes.byref(k)) == 0:
                self.kernels.append(Kernel(device, k, owner=self))
                self.errors.append(None)
            else:
                self.kernels.append(None)
                self.errors.append(library().tilus_last_error().decode())
        self._first = next(k for k in self.kernels if k is not None)

    def choose(self, *args):
        """The choice for the arguments' bucket, tuning first when it is new:
        {"bucket", "index", "config", "basis", "trials"}; "config" here is
        the configuration's dict."""
        args_c, keep, _ = self._first._marshal(args)
        out = ctypes.c_char_p()
        _check(library().tilus_autotune_choose(self._h, args_c, len(args),
                                               ctypes.byref(out)))
        del keep
        choice = json.loads(out.value.decode())
        choice["config"] = self.configs[choice["index"]]
        return choice

    def launch(self, *args, stream=None, timed=False):
        """Chooses (see `choose`), then launches the chosen kernel as
        Kernel.launch does."""
        index = self.choose(*args)["index"]
        return self.kernels[index].launch(*args, stream=stream, timed=timed)

    __call__ = launch

    def __del__(self):
        for k in getattr(self, "kernels", []):
            if k is not None:
                k._h = None
        if getattr(self, "_h", None):
            library().tilus_autotune_destroy(self._h)
            self._h = None


def autotune(configs, key=(), *, source=None, path=None, device=None,
             gpu=None, sample_ctas=0, warmup=2, reps=10, cache=None,
             kernel=None, **defines):
    """An Autotuner over `configs` (dicts of compile-time parameter values,
    added to `defines`) for the `.tl` `source` (or the file at `path`).

    The fastest configuration is chosen once per key bucket: the values of
    the integer parameters named in `key`, each rounded up to a power of two.
    On a GPU each candidate is timed with CUDA events (median of `reps`
    launches after `warmup`); on the emulator the performance model's time
    on `gpu` (default H100) decides, with `sample_ctas` as in
    Device.enable_profiling. Trials run on scratch copies of the outputs;
    choices are cached on disk beside the kernel cache unless `cache` is
    False (default: TILUS_CACHE)."""
    if (source is None) == (path is None):
        raise TilusError("autotune: give source or path")
    if isinstance(key, str):
        key = [key]
    filename = "<source>"
    if path is not None:
        with open(path) as f:
            source = f.read()
        filename = str(path)
    device = device if isinstance(device, Device) else Device(device)
    options = [f"sample_ctas={int(sample_ctas)}", f"warmup={int(warmup)}",
               f"reps={int(reps)}"]
    if gpu:
        options.append(f"gpu={gpu}")
    if kernel:
        options.append(f"kernel={kernel}")
    if cache is not None:
        options.append(f"cache={1 if cache else 0}")
    return Autotuner(device, source, filename, configs, list(key), defines,
                     ",".join(options))


def _c_strides(shape, itemsize):
    strides, step = [], itemsize
    for e in reversed(shape):
        strides.append(step)
        step *= e
    return tuple(reversed(strides))


def _numpy_dtype(arr, where):
    """The tilus element type of a numpy array; float64 is "f64" (refused by
    the launch check unless the parameter is f64)."""
    dtype = _NUMPY_DTYPES.get(arr.dtype.name)
    if dtype is None:
        raise TilusError(f"{where}: numpy {arr.dtype} arrays have no tilus "
                         "element type")
    return dtype


def _host_array(a, where):
    """A numpy array over the memory of `a` (array interface or DLPack)."""
    import numpy as np
    if isinstance(a, np.ndarray):
        arr = a
    elif hasattr(a, "__array_interface__"):
        arr = np.asarray(a)
    else:
        try:
            arr = np.from_dlpack(a)
        except (TypeError, RuntimeError, BufferError) as e:
            raise TilusError(f"{where}: cannot read the DLPack tensor: {e}")
    if arr.ndim == 0:
        raise TilusError(f"{where}: not an array")
    return arr


def _torch_cpu_array(t, where):
    """A numpy array sharing a CPU tensor's memory, and its element type;
    types numpy lacks (bf16, f8) as unsigned integers of their width."""
    import numpy as np
    dtype = _TORCH_DTYPES.get(str(t.dtype))
    if dtype is None:
        raise TilusError(f"{where}: {t.dtype} has no tilus element type")
    if t.dim() == 0:
        raise TilusError(f"{where}: not an array")
    d = t.detach()
    if dtype in ("bf16", "f8e4m3", "f8e5m2"):
        torch = sys.modules["torch"]
        d = d.view(torch.int16 if dtype == "bf16" else torch.uint8)
    arr = d.numpy()
    return (arr.view(np.uint16) if dtype == "bf16" else arr), dtype


def _torch_stream(args):
    for a in args:
        if isinstance(a, View):
            a = a.base
        if _is_torch_tensor(a) and a.is_cuda:
            return sys.modules["torch"].cuda.current_stream(a.device).cuda_stream
    return 0


from .matmul import (MatmulA16Wx, PackedWeights, QuantizedWeight,  # noqa: E402
                     quantize)
