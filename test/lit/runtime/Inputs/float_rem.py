"""Float % on the emulator against numpy's fmod, bit for bit (signed zeros
included, any NaN for a NaN): random bit patterns over every exponent,
quotients up to 2^253, subnormals, zeros, infinities and NaNs."""
import sys

import numpy as np

sys.path.insert(0, sys.argv[1] + "/python")
import tilus  # noqa: E402

device = tilus.Device("emu")
rng = np.random.default_rng(11)


def special(dtype):
    info = np.finfo(dtype)
    tiny = np.array(1, dtype=np.uint32 if dtype == np.float32 else np.uint16)
    sub = tiny.view(dtype)
    return np.array([0.0, -0.0, 1.0, -1.0, 3.0, -3.0, info.max, -info.max,
                     info.tiny, sub, -sub, np.inf, -np.inf, np.nan, 0.1, 7.5],
                    dtype=dtype)


def run(name, dtype, bits_type, n=4096):
    s = special(dtype)
    # Every pair of special values, then random bit patterns.
    sx, sy = np.meshgrid(s, s)
    k = n - sx.size
    rx = rng.integers(0, np.iinfo(bits_type).max, k, dtype=bits_type,
                      endpoint=True).view(dtype)
    ry = rng.integers(0, np.iinfo(bits_type).max, k, dtype=bits_type,
                      endpoint=True).view(dtype)
    x = np.concatenate([sx.ravel(), rx]).astype(dtype)
    y = np.concatenate([sy.ravel(), ry]).astype(dtype)
    o = np.zeros(n, dtype=dtype)
    kernel = device.compile_file(sys.argv[2], kernel=name)
    kernel(x, y, o, n)
    with np.errstate(all="ignore"):
        expect = np.fmod(x, y)
        wide = np.abs(x.astype(np.float64)) > 2.0 ** 24 * np.abs(y.astype(np.float64))
    nan = np.isnan(expect)
    same = np.where(nan, np.isnan(o), o.view(bits_type) == expect.view(bits_type))
    print(f"{name}: {int(same.sum())}/{n} exact, {int((wide & ~nan).sum())} "
          f"with quotients over 2^24, {int(nan.sum())} NaN")
    for i in np.flatnonzero(~same)[:5]:
        print(f"  {x[i]!r} % {y[i]!r}: got {o[i]!r}, expected {expect[i]!r}")


run("rem32", np.float32, np.uint32)
run("rem16", np.float16, np.uint16)
