"""tilus as PyTorch operators: `torch.ops.tilus.matmul_a16wx` (with a shape
function for meta tensors) and `QuantLinear`, a linear layer whose weights
are quantised and packed once.

CUDA tensors run on their GPU on torch's current stream; CPU tensors run on
the emulator (exact, slow: for tests and development).

    import torch, tilus.torch
    layer = tilus.torch.QuantLinear.from_linear(torch.nn.Linear(4096, 4096),
                                                "u4", group=128)
    y = layer(x)                          # x: (..., 4096) f16 or bf16
"""

import torch

from . import (Device, PackedWeights, TilusError, matmul_config, pack_weights,
               quantize)
from .matmul import MatmulA16Wx, weight_bits

_ACT = {torch.float16: "f16", torch.bfloat16: "bf16"}
_devices = {}
_matmuls = {}


def _device_for(t):
    key = "emu" if t.device.type == "cpu" else f"cuda:{t.device.index or 0}"
    if key not in _devices:
        _devices[key] = Device(key)
    return _devices[key]


def _matmul(device, weight_type, group, act, zero_point):
    key = (id(device), weight_type, group, act, zero_point)
    if key not in _matmuls:
        _matmuls[key] = MatmulA16Wx(device, weight_type, group, act,
                                    zero_point)
    return _matmuls[key]


_lib = torch.library.Library("tilus", "DEF")
_lib.define("matmul_a16wx(Tensor a, Tensor b, Tensor scales, Tensor? zeros, "
            "str weight_type, int group, int n) -> Tensor")


def _matmul_a16wx(a, b, scales, zeros, weight_type, group, n):
    act = _ACT.get(a.dtype)
    if act is None:
        raise TilusError(f"a: expected float16 or bfloat16, got {a.dtype}")
    if a.dim() != 2:
        raise TilusError(f"a: expected M x K, got {a.dim()} dimensions")
    device = _device_for(a)
    mm = _matmul(device, weight_type, group, act, zeros is not None)
    k = a.shape[1]
    packed = PackedWeights(b if b.is_cuda else b.numpy(), k, n,
                           mm.config(1, n, k))
    out = torch.empty((a.shape[0], n), dtype=a.dtype, device=a.device)
    mm(a.contiguous(), packed, scales, zeros, out=out)
    return out


def _matmul_a16wx_meta(a, b, scales, zeros, weight_type, group, n):
    return torch.empty((a.shape[0], n), dtype=a.dtype, device="meta")


_lib.impl("matmul_a16wx", _matmul_a16wx, "CPU")
_lib.impl("matmul_a16wx", _matmul_a16wx, "CUDA")
_lib.impl("matmul_a16wx", _matmul_a16wx_meta, "Meta")
# No gradient is defined; torch 1.13 has no autograd fallthrough for meta.
_lib.impl("matmul_a16wx", _matmul_a16wx_meta, "AutogradMeta")


class QuantLinear(torch.nn.Module):
    """y = x @ dequantize(W) (+ bias), W packed once for matmul_a16wx."""

    def __init__(self, q, bias=None, device="cpu"):
        super().__init__()
        act = {"f16": torch.float16, "bf16": torch.bfloat16}[q.act]
        k, n = q.codes.shape
        bits = weight_bits(q.dtype)
        packed = pack_weights(q.codes, bits,
                              matmul_config(1, n, k, bits, q.group))
        self.weight_type, self.group = q.dtype, q.group
        self.in_features, self.out_features = k, n
        self.register_buffer("packed", torch.from_numpy(packed).to(device))
        self.register_buffer("scales", torch.from_numpy(q.scales).to(
            device=device, dtype=act))
        self.register_buffer("zeros", None if q.zeros is None else
                             torch.from_numpy(q.zeros).to(device=device,
                                                          dtype=act))
        self.register_buffer("bias", None if bias is None else
                             bias.detach().to(device=device, dtype=act))

    @classmethod
    def from_linear(cls, linear, weight_type="u4", group=128, act="f16",
                    zero_point=None):
        """Quantises a torch.nn.Linear's weight (round to nearest, one scale
        per group of `group` input features)."""
        q = quantize(linear.weight.detach().t(), weight_type, group,
                     zero_point, act)
        return cls(q, linear.bias, linear.weight.device)

    def forward(self, x):
        shape = x.shape
        y = torch.ops.tilus.matmul_a16wx(
            x.reshape(-1, self.in_features), self.packed, self.scales,
            self.zeros, self.weight_type, self.group, self.out_features)
        if self.bias is not None:
            y = y + self.bias
        return y.reshape(*shape[:-1], self.out_features)

