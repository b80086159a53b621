#!/usr/bin/env python3
"""One LLM decoder layer's MLP through tilus, from PyTorch:

    h = rmsnorm(x) * w_norm                      examples/rmsnorm.tl
    g, u = h @ W_gate, h @ W_up                  4-bit weights, group 128 (QuantLinear,
                                                 examples/matmul_a16wx.tl; one merged matmul)
    a = silu(g) * u                              examples/silu_and_mul.tl
    y = a @ W_down                               4-bit weights

    python3 examples/decoder_mlp.py [--hidden 512] [--inter 1024] [--tokens 4]
                                    [--weights u4] [--device emu|cuda]

Checks every output element against a float32 torch reference that uses the
same dequantised weights and rounds to f16 where the kernels do, and prints
the error against the unquantised float layer for scale. On a GPU
(--device cuda) it also times the layer; on the emulator it does not.
"""
import argparse
import os
import sys
import time

import numpy as np
import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
import tilus  # noqa: E402
import tilus.torch  # noqa: E402,F401  (registers torch.ops.tilus)
from tilus.torch import QuantLinear  # noqa: E402


def next_pow2(v):
    p = 1
    while p < v:
        p *= 2
    return p


class DecoderMLP:
    """The tilus layer: two elementwise kernels and two QuantLinear layers."""

    def __init__(self, device, norm_weight, gate_up, down, weights, eps):
        hidden = norm_weight.shape[0]
        self.device, self.eps = device, eps
        self.norm_weight = norm_weight.reshape(1, hidden)
        self.rmsnorm = device.compile_file(os.path.join(ROOT, "examples", "rmsnorm.tl"),
                                           BN=next_pow2(hidden))
        self.silu_and_mul = device.compile_file(
            os.path.join(ROOT, "examples", "silu_and_mul.tl"))
        self.q_gate_up = tilus.quantize(gate_up.weight.detach().t().numpy(), weights, 128)
        self.q_down = tilus.quantize(down.weight.detach().t().numpy(), weights, 128)
        self.gate_up = QuantLinear(self.q_gate_up)
        self.down = QuantLinear(self.q_down)

    def __call__(self, x):
        m, hidden = x.shape
        h = torch.empty_like(x)
        self.rmsnorm(x, self.norm_weight, h, m, hidden, self.eps)
        gu = self.gate_up(h)
        inter = gu.shape[1] // 2
        a = torch.empty((m, inter), dtype=x.dtype)
        self.silu_and_mul(gu, a, m, inter)
        return self.down(a)


def f16(t):
    return t.to(torch.float16).to(torch.float32)


def reference(x, norm_weight, w_gate_up, w_down, eps):
    """float32 math, rounded to f16 between the kernels as they store."""
    x = x.to(torch.float32)
    h = f16(x * torch.rsqrt((x * x).mean(dim=1, keepdim=True) + eps)
            * norm_weight.to(torch.float32))
    gu = f16(h @ w_gate_up)
    inter = gu.shape[1] // 2
    g, u = gu[:, :inter], gu[:, inter:]
    a = f16(g / (1 + torch.exp(-g)) * u)
    return f16(a @ w_down)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hidden", type=int, default=512)
    ap.add_argument("--inter", type=int, default=1024)
    ap.add_argument("--tokens", type=int, default=4)
    ap.add_argument("--weights", default="u4")
    ap.add_argument("--device", default="emu")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.hidden % 128 or args.inter % 128:
        sys.exit("decoder_mlp: --hidden and --inter must be multiples of the group, 128")
    torch.manual_seed(args.seed)
    eps = 1e-6
    gate_up = torch.nn.Linear(args.hidden, 2 * args.inter, bias=False)
    down = torch.nn.Linear(args.inter, args.hidden, bias=False)
    norm_weight = (1 + 0.1 * torch.randn(args.hidden)).to(torch.float16)
    x = torch.randn(args.tokens, args.hidden).to(torch.float16)

    device = tilus.Device(args.device)
    mlp = DecoderMLP(device, norm_weight, gate_up, down, args.weights, eps)
    if args.device != "emu":
        x, mlp.norm_weight = x.cuda(), mlp.norm_weight.cuda()
        mlp.gate_up, mlp.down = mlp.gate_up.cuda(), mlp.down.cuda()
    y = mlp(x).cpu().to(torch.float32)

    w_gate_up = torch.from_numpy(mlp.q_gate_up.dequantize().astype(np.float32))
    w_down = torch.from_numpy(mlp.q_down.dequantize().astype(np.float32))
    ref = reference(x.cpu(), norm_weight, w_gate_up, w_down, eps)
    err = (y - ref).abs()
    tol = 2e-3 + 1e-2 * ref.abs()
    bad = int((err > tol).sum())
    print(f"decoder MLP: {args.tokens} tokens, hidden {args.hidden}, intermediate "
          f"{args.inter}, {args.weights} weights (group 128), on {device.name}")
    print(f"  {y.numel()} outputs checked against the dequantised float32 reference: "
          f"max |err| {err.max().item():.3g}, {bad} outside |err| <= 0.002 + 0.01 |ref|")
    full = reference(x.cpu(), norm_weight, gate_up.weight.detach().t(),
                     down.weight.detach().t(), eps)
    rel = ((y - full).norm() / full.norm()).item()
    print(f"  against the unquantised float layer: relative error {rel:.3g} "
          f"(the cost of {args.weights} round-to-nearest)")
    if args.device != "emu":
        torch.cuda.synchronize()
        reps = 100
        start = time.perf_counter()
        for _ in range(reps):
            mlp(x)
        torch.cuda.synchronize()
        print(f"  measured: {(time.perf_counter() - start) / reps * 1e6:.1f} us per layer")
    print("decoder MLP: " + ("ok" if bad == 0 else "MISMATCH"))
    return 0 if bad == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
