"""The f16 matmuls against torch's (cuBLAS): matmul_wgmma, matmul_wgmma_async, matmul_f16_sm90a
and matmul_f16_sm90a_ws (its warp-specialised form) on sm_90a, matmul_f16 on mma.sync; then the low-bit prefill matmuls against torch on the dequantized
weights.

  hopper_bench.py BUNDLE --device cuda [--reps N] [--shapes MxNxK,..]
                  [--prefill-shapes MxNxK,..]
  hopper_bench.py BUNDLE --device emu [--torch]

Nothing is compiled here: make-bundle.sh compiled the kernels listed in
BUNDLE/hopper/configs.txt (NAME KERNEL ARCH B_LAYOUT), PTX and metadata.
matmul_wgmma and matmul_f16_sm90a (TMA + mbarrier ring into wgmma; its
tensor maps are built by the runtime at launch) take b transposed (bt:
n x k, "TN"), matmul_f16 takes b as k x n; all write c = a @ b in f32. Inputs are uniform in [-1, 1) in f16;
every element of c is checked against an f32 reference:
|c - ref| <= 1e-3 |ref| + 1e-3 rms(ref) (f32 accumulation in another order).

On a GPU with compute capability 9.0 (torch with CUDA): one row per kernel
and shape with the median time of --reps launches (CUDA events, L2 flushed
before each), torch.matmul on the same f16 operands (cuBLAS, f16 out), and
the TFLOPS of each. The sm_90a kernels are skipped on other GPUs. With
--device emu: a small ragged shape through the PTX emulator with numpy,
warp instructions in place of a time.

The low-bit prefill part (BUNDLE/hopper/prefill.txt: NAME KERNEL ARCH W BM BN
BK WG) runs matmul_a16wx_wgmma (examples/matmul_a16wx_sm90a.tl, sm_90a),
matmul_a16wx_tma (examples/matmul_a16wx_sm90a_tma.tl, the same arguments),
matmul_a16wx_rega (examples/matmul_a16wx_sm90a_rega.tl, the same arguments) and
matmul_a16wx (mma.sync) on the same weights: random codes of W packed by
tilus.pack_weights for the row's BN / WG x BK (one packing serves all
kernels whose BN / WG and BK agree), group-128 f16 scales with |w| <= 1.5, f16
activations uniform in [-1, 1). The reference dequantizes in f32 (w =
value(code) * scale, c = a @ w); an element passes when |c - ref| <= 1e-2
|ref| + 5e-3 rms(ref), as in a16wx_bench.py. On the GPU torch.matmul runs on
the dense f16 weights (cuBLAS) at M = 4096, N = K = 4096 and 8192; on the
emulator a ragged 130 x 256 x 256 with numpy (--torch: the torch code path
on CPU tensors too). Exits 1 when any output fails its check.
"""
import argparse
import os
import sys

from a16wx_bench import check as check_a16wx  # beside this script, in the bundle too
from a16wx_bench import bits_of, median_ms

RTOL, ATOL_RMS = 1e-3, 1e-3
FLUSH_BYTES = 256 << 20
SHAPES = {"cuda": ((4096, 4096, 4096), (4096, 8192, 8192)),
          "emu": ((130, 128, 64),)}
PREFILL_SHAPES = {"cuda": ((4096, 4096, 4096), (4096, 8192, 8192)),
                  "emu": ((130, 256, 256),)}
GROUP = 128


def read_configs(bundle):
    rows = []
    with open(os.path.join(bundle, "hopper", "configs.txt")) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                name, kernel, arch, b_layout = line.split()
                rows.append((name, kernel, arch, b_layout))
    return rows


def check(np, got, ref):
    """The count of elements outside the tolerance."""
    rms = float(np.sqrt(np.mean(ref.astype(np.float64) ** 2)))
    bad = np.abs(got - ref) > RTOL * np.abs(ref) + ATOL_RMS * rms
    return int(bad.sum())


def load(dev, bundle, name, kernel):
    base = os.path.join(bundle, "hopper", name)
    with open(base + ".ptx") as ptx, open(base + ".json") as meta:
        return dev.load(ptx.read(), meta.read(), kernel=kernel)


def run_emu(tilus, np, args, configs):
    dev = tilus.Device("emu")
    rng = np.random.default_rng(7)
    failures = 0
    print(f"f16 matmul on {dev.name}: warp instructions, every element checked")
    for m, n, k in SHAPES["emu"]:
        a = rng.uniform(-1, 1, (m, k)).astype(np.float16)
        b = rng.uniform(-1, 1, (k, n)).astype(np.float16)
        ref = a.astype(np.float32) @ b.astype(np.float32)
        for name, kernel, arch, b_layout in configs:
            c = np.zeros((m, n), dtype=np.float32)
            operand = np.ascontiguousarray(b.T) if b_layout == "nk" else b
            stats = load(dev, args.bundle, name, kernel)(
                a, operand, c, m, n, k, timed=True)
            bad = check(np, c, ref)
            failures += bad > 0
            print(f"  {name:28} {arch:6} {m}x{n}x{k}: "
                  f"{stats['warp_instructions']} wi, "
                  f"{'ok' if not bad else f'{bad} elements wrong'}")
    return failures


def run_cuda(tilus, np, args, configs):
    import torch
    if not torch.cuda.is_available():
        sys.exit("hopper_bench: torch finds no CUDA device (try --device emu)")
    torch.backends.cuda.matmul.allow_tf32 = False
    major, minor = torch.cuda.get_device_capability()
    dev = tilus.Device("cuda")
    flush = torch.empty(FLUSH_BYTES, dtype=torch.uint8, device="cuda")
    shapes = SHAPES["cuda"]
    if args.shapes:
        shapes = [tuple(int(x) for x in s.split("x"))
                  for s in args.shapes.split(",")]
    print(f"f16 matmul on {torch.cuda.get_device_name()} (sm_{major}{minor}): "
          f"median of {args.reps} runs, CUDA events, L2 flushed; "
          "torch = torch.matmul f16 (cuBLAS)")
    print(f"  {'kernel':28} {'shape':16} {'ms':>8} {'TFLOPS':>7} "
          f"{'torch ms':>9} {'TFLOPS':>7} {'vs torch':>8}  check")
    failures = 0
    gen = torch.Generator(device="cuda").manual_seed(7)
    for m, n, k in shapes:
        a = torch.rand((m, k), generator=gen, device="cuda") * 2 - 1
        b = torch.rand((k, n), generator=gen, device="cuda") * 2 - 1
        a, b = a.half(), b.half()
        bt = b.t().contiguous()
        ref = (a.float() @ b.float()).cpu().numpy()
        c16 = torch.empty((m, n), dtype=torch.float16, device="cuda")
        t_torch = median_ms(torch, lambda: torch.matmul(a, b, out=c16),
                            args.reps, flush)
        flops = 2.0 * m * n * k
        for name, kernel, arch, b_layout in configs:
            if arch == "sm_90a" and (major, minor) != (9, 0):
                print(f"  {name:28} skipped: sm_90a needs compute capability 9.0")
                continue
            fn = load(dev, args.bundle, name, kernel)
            c = torch.zeros((m, n), dtype=torch.float32, device="cuda")
            operand = bt if b_layout == "nk" else b

            def run():
                fn(a, operand, c, m, n, k)
            run()
            torch.cuda.synchronize()
            bad = check(np, c.cpu().numpy(), ref)
            failures += bad > 0
            t = median_ms(torch, run, args.reps, flush)
            print(f"  {name:28} {f'{m}x{n}x{k}':16} {t:8.3f} "
                  f"{flops / t / 1e9:7.1f} {t_torch:9.3f} "
                  f"{flops / t_torch / 1e9:7.1f} {t_torch / t:7.2f}x  "
                  f"{'ok' if not bad else f'{bad} wrong'}")
    return failures


def read_prefill(bundle):
    rows = []
    path = os.path.join(bundle, "hopper", "prefill.txt")
    with open(path) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                name, kernel, arch, w, bm, bn, bk, wg = line.split()
                # The packing's tile: one warpgroup's BN / WG columns.
                rows.append((name, kernel, arch, w,
                             (int(bm), int(bn) // int(wg), int(bk))))
    return rows


class PrefillWeights:
    """Random codes of W (K x N, numpy uint8) and group scales (f16), their
    values' table, and their packed forms by (BN, BK)."""

    def __init__(self, tilus, np, w, n, k, seed):
        self.tilus, self.w, self.bits = tilus, w, bits_of(w)
        self.lut = tilus.decode(np.arange(1 << self.bits), w)
        valid = np.nonzero(np.isfinite(self.lut))[0].astype(np.uint8)
        rng = np.random.default_rng(seed)
        self.codes = valid[rng.integers(0, len(valid), (k, n))]
        largest = float(np.max(np.abs(self.lut[valid]))) or 1.0
        self.scales = (rng.uniform(0.5, 1.5, (k // GROUP, n)) /
                       largest).astype(np.float16)
        self.packed = {}

    def pack(self, tile):
        if tile[1:] not in self.packed:
            self.packed[tile[1:]] = self.tilus.pack_weights(
                self.codes, self.bits, tile)
        return self.packed[tile[1:]]


def prefill_reference_numpy(np, wt, a):
    s = np.repeat(wt.scales.astype(np.float32), GROUP, axis=0)
    return a.astype(np.float32) @ (wt.lut.astype(np.float32)[wt.codes] * s)


def prefill_inputs_torch(torch, wt, a, device):
    """The kernels' tensors and the f32 reference (c = a @ w, w) on
    `device`."""
    codes = torch.from_numpy(wt.codes).to(device)
    scales = torch.from_numpy(wt.scales).to(device)
    a16 = torch.from_numpy(a).to(device)
    lut = torch.tensor(wt.lut, dtype=torch.float32, device=device)
    k, n = wt.codes.shape
    w = lut[codes.long()].view(k // GROUP, GROUP, n)
    w = (w * scales.float()[:, None, :]).view(k, n)
    return a16, scales, a16.float() @ w, w


def prefill_workspace(kernel, tile, m, n, zeros):
    """matmul_a16wx's split-K workspace (`zeros(shape, is_float)` makes
    each buffer), not touched at SPLITK = 1 but checked for size; None for
    matmul_a16wx_wgmma, which has none."""
    if kernel != "matmul_a16wx":
        return None
    return (zeros((1, m, n), True),
            zeros((-(-m // tile[0]), n // tile[1]), False))


def prefill_call(fn, packed, a, scales, c, m, n, k, workspace, timed=False):
    """One launch of either kernel (`scales` also as the unread zero
    points)."""
    return fn(a, packed, scales, scales, c, *(workspace or ()), m, n, k,
              timed=timed)


def torch_zeros(torch, device):
    return lambda shape, f: torch.zeros(
        shape, dtype=torch.float32 if f else torch.int32, device=device)


def run_prefill_emu(tilus, np, args, rows, use_torch):
    dev = tilus.Device("emu")
    what = ("the torch code path on CPU tensors" if use_torch
            else "warp instructions")
    print(f"low-bit prefill matmul on {dev.name}: group {GROUP}, f16 "
          f"activations, {what}, every element checked")
    failures = 0
    for m, n, k in PREFILL_SHAPES["emu"]:
        rng = np.random.default_rng(11)
        a = rng.uniform(-1, 1, (m, k)).astype(np.float16)
        weights = {}
        for name, kernel, arch, w, tile in rows:
            if w not in weights:
                weights[w] = PrefillWeights(tilus, np, w, n, k, len(weights))
            wt = weights[w]
            fn = load(dev, args.bundle, name, kernel)
            packed = wt.pack(tile)
            if use_torch:
                import torch
                a16, scales, ref, _ = prefill_inputs_torch(torch, wt, a, "cpu")
                c = torch.zeros((m, n), dtype=torch.float16)
                prefill_call(fn, torch.from_numpy(packed), a16, scales, c,
                             m, n, k, prefill_workspace(
                                 kernel, tile, m, n,
                                 torch_zeros(torch, "cpu")))
                _, bad = check_a16wx(c.float(), ref)
                note = "torch on CPU"
            else:
                c = np.zeros((m, n), dtype=np.float16)
                workspace = prefill_workspace(
                    kernel, tile, m, n, lambda shape, f: np.zeros(
                        shape, np.float32 if f else np.int32))
                stats = prefill_call(fn, packed, a, wt.scales, c, m, n, k,
                                     workspace, timed=True)
                _, bad = check_a16wx(c.astype(np.float32),
                                     prefill_reference_numpy(np, wt, a))
                note = f"{stats['warp_instructions']} wi"
            failures += bad > 0
            print(f"  {name:30} {arch:6} {w} {m}x{n}x{k}: {note}, "
                  f"{'ok' if not bad else f'{bad} elements wrong'}")
    return failures


def run_prefill_cuda(tilus, np, args, rows):
    import torch
    major, minor = torch.cuda.get_device_capability()
    dev = tilus.Device("cuda")
    flush = torch.empty(FLUSH_BYTES, dtype=torch.uint8, device="cuda")
    shapes = PREFILL_SHAPES["cuda"]
    if args.prefill_shapes:
        shapes = [tuple(int(x) for x in s.split("x"))
                  for s in args.prefill_shapes.split(",")]
    print(f"low-bit prefill matmul on {torch.cuda.get_device_name()} "
          f"(sm_{major}{minor}): group {GROUP}, f16 activations; median of "
          f"{args.reps} runs, CUDA events, L2 flushed; torch = torch.matmul "
          "on the dequantized f16 weights (cuBLAS)")
    print(f"  {'kernel':30} {'W':4} {'shape':16} {'ms':>8} {'TFLOPS':>7} "
          f"{'torch ms':>9} {'TFLOPS':>7} {'vs torch':>8}  check")
    failures = 0
    for m, n, k in shapes:
        rng = np.random.default_rng(11)
        a = rng.uniform(-1, 1, (m, k)).astype(np.float16)
        weights, torch_ms = {}, {}
        flops = 2.0 * m * n * k
        for name, kernel, arch, w, tile in rows:
            if arch == "sm_90a" and (major, minor) != (9, 0):
                print(f"  {name:30} skipped: sm_90a needs compute capability 9.0")
                continue
            if w not in weights:
                weights[w] = PrefillWeights(tilus, np, w, n, k, len(weights))
            wt = weights[w]
            a16, scales, ref, w32 = prefill_inputs_torch(torch, wt, a, "cuda")
            if w not in torch_ms:
                w16 = w32.half()
                c16 = torch.empty((m, n), dtype=torch.float16, device="cuda")
                torch_ms[w] = median_ms(
                    torch, lambda: torch.matmul(a16, w16, out=c16), args.reps,
                    flush)
                del w16, c16
            del w32
            packed = torch.from_numpy(wt.pack(tile)).cuda()
            fn = load(dev, args.bundle, name, kernel)
            c = torch.zeros((m, n), dtype=torch.float16, device="cuda")
            workspace = prefill_workspace(kernel, tile, m, n,
                                          torch_zeros(torch, "cuda"))

            def run():
                prefill_call(fn, packed, a16, scales, c, m, n, k, workspace)
            run()
            torch.cuda.synchronize()
            _, bad = check_a16wx(c.float(), ref)
            failures += bad > 0
            t = median_ms(torch, run, args.reps, flush)
            print(f"  {name:30} {w:4} {f'{m}x{n}x{k}':16} {t:8.3f} "
                  f"{flops / t / 1e9:7.1f} {torch_ms[w]:9.3f} "
                  f"{flops / torch_ms[w] / 1e9:7.1f} {torch_ms[w] / t:7.2f}x  "
                  f"{'ok' if not bad else f'{bad} wrong'}")
            del ref, packed, c, workspace
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundle")
    ap.add_argument("--device", choices=("cuda", "emu"), default="cuda")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--shapes", help="MxNxK,... (cuda only)")
    ap.add_argument("--prefill-shapes",
                    help="MxNxK,... for the low-bit part (cuda only)")
    ap.add_argument("--torch", action="store_true",
                    help="with --device emu: the low-bit part's torch code "
                         "path on CPU tensors")
    args = ap.parse_args()
    import numpy as np
    sys.path.insert(0, os.path.join(args.bundle, "src", "python"))
    import tilus
    configs = read_configs(args.bundle)
    run = run_cuda if args.device == "cuda" else run_emu
    failures = run(tilus, np, args, configs)
    prefill = read_prefill(args.bundle)
    if args.device == "cuda":
        failures += run_prefill_cuda(tilus, np, args, prefill)
    else:
        failures += run_prefill_emu(tilus, np, args, prefill, False)
        if args.torch:
            failures += run_prefill_emu(tilus, np, args, prefill, True)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
