"""The low-bit matmul from Python on the emulator: tilus.quantize (round to
nearest per group), MatmulA16Wx (tile table, packing, split-K workspace)
and, with argv[2] == "torch", torch.ops.tilus.matmul_a16wx and QuantLinear.
Every output element is checked against float64 numpy on the dequantized
weights, within the kernel's rounding bound."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(sys.argv[1], "python"))
import tilus  # noqa: E402

rng = np.random.default_rng(5)
dev = tilus.Device("emu")


def bound(av, wq, act):
    eps = 2.0**-11 if act == "f16" else 2.0**-8
    want = av @ wq
    k = av.shape[1]
    return want, eps * np.abs(want) + k * 2.0**-23 * (
        np.abs(av) @ np.abs(wq)) + 2.0**-24


def check(name, got, want, tol):
    err = np.abs(np.asarray(got, np.float64) - want)
    bad = np.count_nonzero(err > tol)
    print(name, "ok" if bad == 0 else f"FAIL: {bad} of {err.size} elements")


# (weight type, activation, M, N, K, group): split-K and not, zero points
# (unsigned), symmetric (signed, float).
for W, act, m, n, k, g in [("u4", "f16", 3, 256, 512, 128),
                           ("i4", "bf16", 17, 128, 256, 64),
                           ("f4e2m1", "f16", 1, 128, 1024, 128),
                           ("u2", "bf16", 2, 128, 256, 128),
                           ("i8", "f16", 5, 128, 256, 128)]:
    w = rng.standard_normal((k, n)) * 0.05
    q = tilus.quantize(w, W, group=g, act=act)
    wq = q.dequantize()
    rows = np.arange(k) // g
    if W[0] in "ui":  # round to nearest: half a step, plus T's rounding
        qerr = np.abs(wq - w) <= 0.5 * q.scales[rows] * (1 + 2**-7) + 2**-8 * np.abs(w)
        print(W, "quantization within half a step:", bool(qerr.all()))
    mm = tilus.MatmulA16Wx(dev, W, group=g, act=act,
                           zero_point=q.zeros is not None)
    packed = mm.pack(q.codes)
    a64 = rng.uniform(-1, 1, (m, k))
    if act == "f16":
        a = a64.astype(np.float16)
        av = a.astype(np.float64)
    else:
        a = tilus.encode(a64, "bf16").astype(np.uint16).reshape(m, k)
        av = tilus.decode(a.astype(np.uint64), "bf16").reshape(m, k)
    want, tol = bound(av, wq, act)
    c = mm(a, packed, q.scales, q.zeros)
    check(f"{W} {act} {m}x{n}x{k} g{g} tile {mm.config(m, n, k)}", c, want, tol)
    if mm.config(m, n, k)[3] > 1:  # the workspace is reused, counts at zero
        c2 = mm(a, packed, q.scales, q.zeros)
        print("second launch equal:", np.array_equal(c, c2))

try:
    tilus.quantize(rng.standard_normal((100, 128)), "u4", group=128)
except tilus.TilusError as e:
    print("error:", e)
try:
    tilus.quantize(rng.standard_normal((128, 128)), "u4", zero_point=False)
except tilus.TilusError as e:
    print("error:", e)
try:
    tilus.quantize(rng.standard_normal((128, 128)), "i4", zero_point=True)
except tilus.TilusError as e:
    print("error:", e)

if len(sys.argv) > 2 and sys.argv[2] == "torch":
    import torch
    import tilus.torch  # noqa: F401

    torch.manual_seed(0)
    for dtype, act, W in ((torch.float16, "f16", "u4"),
                          (torch.bfloat16, "bf16", "i4")):
        lin = torch.nn.Linear(256, 128)
        layer = tilus.torch.QuantLinear.from_linear(lin, W, 128, act)
        x = torch.randn(2, 3, 256).to(dtype)
        y = layer(x)
        q = tilus.quantize(lin.weight.detach().t(), W, 128, act=act)
        xv = x.reshape(-1, 256).double().numpy()
        want, tol = bound(xv, q.dequantize(), act)
        bias = lin.bias.detach().double().numpy()
        # The bias is added in T after the product is rounded to T.
        eps = 2.0**-11 if act == "f16" else 2.0**-8
        tol = tol * (1 + eps) + eps * np.abs(want + bias) + eps * np.abs(bias)
        print("QuantLinear", W, act, tuple(y.shape), y.dtype)
        check("QuantLinear output", y.reshape(-1, 128).double().numpy(),
              want + bias, tol)
        float_ref = (x.double() @ lin.weight.detach().double().t()
                     + lin.bias.detach().double())
        rel = ((y.double() - float_ref).abs().max()
               / float_ref.abs().max()).item()
        print("close to the float layer:", rel < 0.1)
        meta = torch.ops.tilus.matmul_a16wx(
            x.reshape(-1, 256).to("meta"), layer.packed.to("meta"),
            layer.scales.to("meta"),
            None if layer.zeros is None else layer.zeros.to("meta"), W, 128,
            128)
        print("meta", tuple(meta.shape), meta.dtype, meta.device)
