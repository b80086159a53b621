"""The f16 matmuls against torch's (cuBLAS): matmul_wgmma and matmul_f16_sm90a on sm_90a, matmul_f16 on mma.sync.

  hopper_bench.py BUNDLE --device cuda [--reps N] [--shapes MxNxK,..]
  hopper_bench.py BUNDLE --device emu

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
warp instructions in place of a time. Exits 1 when any output fails its
check.
"""
import argparse
import os
import sys

from a16wx_bench import median_ms  # beside this script, in the bundle too

RTOL, ATOL_RMS = 1e-3, 1e-3
FLUSH_BYTES = 256 << 20
SHAPES = {"cuda": ((4096, 4096, 4096), (4096, 8192, 8192)),
          "emu": ((130, 128, 64),)}


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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("bundle")
    ap.add_argument("--device", choices=("cuda", "emu"), default="cuda")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--shapes", help="MxNxK,... (cuda only)")
    args = ap.parse_args()
    import numpy as np
    sys.path.insert(0, os.path.join(args.bundle, "src", "python"))
    import tilus
    configs = read_configs(args.bundle)
    run = run_cuda if args.device == "cuda" else run_emu
    sys.exit(1 if run(tilus, np, args, configs) else 0)


if __name__ == "__main__":
    main()
