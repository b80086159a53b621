"""matmul_a16wx against torch's f16 matmul and a Triton W4A16 kernel.

  a16wx_bench.py BUNDLE --device cuda [--reps N] [--weights u4,..] [--m 1,..]
                 [--shapes NxK,..] [--no-triton]
  a16wx_bench.py BUNDLE --device emu [--torch]
  a16wx_bench.py --list-configs

Nothing is compiled here: every kernel is PTX and metadata that
make-bundle.sh compiled into BUNDLE/a16wx/ (configs.txt maps each problem of
the table below to the tile and split-K tilus-pack-weights picks for it; with
split-K, one launch both multiplies the slices and sums them). Weights are
random codes of W, packed by BUNDLE's tilus-pack-weights (the C API has no
packing call); activations are uniform in [-1, 1) and the group-128 scales
are chosen so that |w| <= 1.5. Every output is checked against a reference
dequantized in f32 (w = value(code) * scale, c = a @ w); an element passes
when |c - ref| <= 1e-2 |ref| + 5e-3 rms(ref) (the kernel rounds w and c to
f16, which is well inside that; a wrong tile, group or code is far outside).

On a GPU (torch with CUDA): one row per (W, M, N, K) with the median time of
--reps launches (CUDA events, L2 flushed by writing 256 MiB before each),
torch's a @ w_f16 on the dense f16 weights, the Triton kernel (u4 only),
speedups, and tilus's achieved bandwidth against a 1 GiB device copy.
With --device emu: tiny shapes through the PTX emulator with numpy arrays;
the tilus column counts warp instructions, since emulator time says nothing
about a GPU. --torch there also runs the torch code path (CPU tensors).
Exits 1 when any output fails its check.
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

np = None  # numpy, imported in main: --list-configs runs without it

WEIGHTS = ("u4", "u2", "u8", "f6e3m2", "f4e2m1")
GROUP = 128
TABLE = {  # device -> (M values, (N, K) shapes)
    "cuda": ((1, 16, 64), ((8192, 8192), (28672, 8192), (8192, 28672))),
    "emu": ((1, 16), ((256, 256),)),
}
RTOL, ATOL_RMS = 1e-2, 5e-3
FLUSH_BYTES = 256 << 20
TORCH_DEVICE = "cuda"  # where --device cuda puts its tensors
COPY_BYTES = 1 << 30


def bits_of(w):
    """u4 -> 4, f6e3m2 -> 6."""
    return int(w[1:].split("e")[0])


def list_configs():
    """The problems make-bundle.sh compiles kernels for, one a line:
    DEVICE W BITS M N K GROUP."""
    for device, (ms, shapes) in TABLE.items():
        for w in WEIGHTS:
            for m in ms:
                for n, k in shapes:
                    print(device, w, bits_of(w), m, n, k, GROUP)


def read_configs(bundle):
    """(W, M, N, K) -> (group, (BM, BN, BK), split-K, kernel file stem)."""
    table = {}
    with open(os.path.join(bundle, "a16wx", "configs.txt")) as f:
        for line in f:
            if not line.strip() or line.startswith("#"):
                continue
            _, w, m, n, k, g, bm, bn, bk, split, stem = line.split()
            table[w, int(m), int(n), int(k)] = (
                int(g), (int(bm), int(bn), int(bk)), int(split), stem)
    return table


class Weights:
    """The random weights of one (W, N, K): codes, scales and the values of
    W's codes, shared by every M; packed once per tile."""

    def __init__(self, tilus, w, n, k, seed):
        self.w, self.n, self.k, self.bits = w, n, k, bits_of(w)
        self.lut = tilus.decode(np.arange(1 << self.bits), w)
        self.seed = seed

    def make(self):
        """Draws the codes and scales (on a pool thread)."""
        valid = np.nonzero(np.isfinite(self.lut))[0].astype(np.uint8)
        rng = np.random.default_rng(self.seed)
        codes = rng.integers(0, len(valid), (self.k, self.n), dtype=np.uint8)
        self.codes = codes if len(valid) == len(self.lut) else valid[codes]
        largest = float(np.max(np.abs(self.lut[valid]))) or 1.0
        self.scales = (rng.uniform(0.5, 1.5, (self.k // GROUP, self.n)) /
                       largest).astype(np.float16)
        return self


def pack(tool, workdir, made, tile):
    """The codes of `made` (a future of Weights) packed by tilus-pack-weights
    for `tile` (numpy uint8)."""
    wt = made.result()
    bm, bn, bk = tile
    stem = os.path.join(workdir, f"{wt.w}_{wt.n}_{wt.k}_{bm}x{bn}x{bk}")
    wt.codes.tofile(stem + ".codes")
    subprocess.run([tool, "--bits", str(wt.bits), "--k", str(wt.k), "--n",
                    str(wt.n), "--group", str(GROUP), "--tile",
                    f"{bm}x{bn}x{bk}", stem + ".codes", stem + ".packed"],
                   check=True, stdout=subprocess.DEVNULL)
    packed = np.fromfile(stem + ".packed", dtype=np.uint8)
    os.remove(stem + ".codes")
    os.remove(stem + ".packed")
    return packed


class Problem:
    """One row: the weights, their packed form for the row's tile, and
    activations."""

    def __init__(self, weights, packed, m, stem, tile, split, seed):
        self.weights, self.packed_future, self.stem = weights, packed, stem
        self.tile, self.split = tile, split
        self.w, self.m, self.n, self.k = weights.w, m, weights.n, weights.k
        self.bits = weights.bits
        rng = np.random.default_rng(seed)
        self.a = rng.uniform(-1, 1, (m, self.k)).astype(np.float16)

    def ready(self):
        """Waits for the packing; sets codes, scales, lut and packed."""
        self.packed = self.packed_future.result()
        wt = self.weights
        self.codes, self.scales, self.lut = wt.codes, wt.scales, wt.lut
        return self

    def bytes_moved(self):
        """What the kernel must read and write at least: packed weights,
        activations, scales and the output."""
        return (self.k * self.n * self.bits // 8 + 2 * self.m * self.k +
                2 * (self.k // GROUP) * self.n + 2 * self.m * self.n)


def check(got, ref):
    """(largest error / rms(ref), elements past the bound); numpy arrays
    or torch tensors alike."""
    rms = float((ref * ref).mean()) ** 0.5 or 1.0
    err = abs(got - ref)
    bad = int((err > RTOL * abs(ref) + ATOL_RMS * rms).sum())
    return float(err.max()) / rms, bad


def reference_numpy(p):
    s = np.repeat(p.scales.astype(np.float32), GROUP, axis=0)
    w = p.lut.astype(np.float32)[p.codes] * s
    return p.a.astype(np.float32) @ w


def reference_torch(torch, p, codes, a, scales):
    """(c = a @ w in f32, w) with w = value(code) * scale dequantized in f32
    on the tensors' device."""
    lut = torch.tensor(p.lut, dtype=torch.float32, device=codes.device)
    w = lut[codes.long()].view(p.k // GROUP, GROUP, p.n)
    w = (w * scales.float()[:, None, :]).view(p.k, p.n)
    return a.float() @ w, w


def pack_u4_int32(torch, codes):
    """K x N u4 codes -> (K / 8) x N int32, code k in bits 4 (k % 8)."""
    k, n = codes.shape
    c = codes.view(k // 8, 8, n).to(torch.int64)
    shifts = 4 * torch.arange(8, device=codes.device).view(1, 8, 1)
    q = (c << shifts).sum(1)
    return torch.where(q >= 1 << 31, q - (1 << 32), q).to(torch.int32)


def unpack_u4_int32(torch, q):
    """The inverse of pack_u4_int32, for checking it."""
    shifts = 4 * torch.arange(8, device=q.device).view(1, 8, 1)
    c = (q.to(torch.int64).unsqueeze(1) >> shifts) & 0xF
    return c.view(-1, q.shape[1]).to(torch.uint8)


# --- The Triton baseline ------------------------------------------------------
# W4A16: u4 weights packed 8 per int32 along K ((K / 8) x N), one f16 scale
# per group of GROUP rows and column, f32 accumulation with tl.dot. The same
# weights and semantics as matmul_a16wx with W=u4, ZP=0. Tuned by
# triton.autotune over a fixed grid, keyed on (M, N, K): BLOCK_M 16 (M <= 16)
# or 64 (pruned by M), BLOCK_N 64/128/256, BLOCK_K 64/128, num_warps 4/8,
# num_stages 3/4 (24 candidates per problem). No split-K.
try:
    import triton
    import triton.language as tl
    TRITON_ERROR = None
except Exception as e:  # ImportError, or a Triton that finds no CUDA
    triton = None
    TRITON_ERROR = f"triton unavailable ({type(e).__name__}: {e})"

if triton is not None:
    def _prune_by_m(configs, named_args, **kwargs):
        block_m = 16 if named_args["M"] <= 16 else 64
        return [c for c in configs if c.kwargs["BLOCK_M"] == block_m]

    @triton.autotune(
        configs=[triton.Config({"BLOCK_M": bm, "BLOCK_N": bn, "BLOCK_K": bk},
                               num_warps=nw, num_stages=ns)
                 for bm in (16, 64) for bn in (64, 128, 256)
                 for bk in (64, 128) for nw in (4, 8) for ns in (3, 4)],
        key=["M", "N", "K"],
        prune_configs_by={"early_config_prune": _prune_by_m})
    @triton.jit
    def _w4a16_kernel(a_ptr, q_ptr, s_ptr, c_ptr, M, N, K,
                      GROUP_SIZE: tl.constexpr, BLOCK_M: tl.constexpr,
                      BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr):
        pid_m = tl.program_id(0)
        pid_n = tl.program_id(1)
        rm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
        rn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
        rk = tl.arange(0, BLOCK_K)
        a_ptrs = a_ptr + rm[:, None] * K + rk[None, :]
        q_ptrs = q_ptr + (rk[:, None] // 8) * N + rn[None, :]
        shifts = ((rk % 8) * 4)[:, None]
        acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
        for k0 in range(0, K, BLOCK_K):
            a = tl.load(a_ptrs, mask=rm[:, None] < M, other=0.0)
            q = tl.load(q_ptrs)
            s = tl.load(s_ptr + (k0 // GROUP_SIZE) * N + rn)
            w = ((q >> shifts) & 0xF).to(tl.float16) * s[None, :]
            acc += tl.dot(a, w)
            a_ptrs += BLOCK_K
            q_ptrs += (BLOCK_K // 8) * N
        tl.store(c_ptr + rm[:, None] * N + rn[None, :], acc.to(tl.float16),
                 mask=rm[:, None] < M)


def triton_w4a16(a, q, scales, c):
    m, k = a.shape
    n = c.shape[1]
    assert k % 128 == 0 and n % 256 == 0 and GROUP % 128 == 0

    def grid(meta):
        return (triton.cdiv(m, meta["BLOCK_M"]), n // meta["BLOCK_N"])
    _w4a16_kernel[grid](a, q, scales, c, m, n, k, GROUP_SIZE=GROUP)


# --- Timing and the table -----------------------------------------------------
def median_ms(torch, fn, reps, flush=None):
    """The median of `reps` runs of fn, timed with CUDA events; `flush` (a
    tensor) is overwritten before each so that no run finds its inputs in
    L2. The write also keeps the GPU busy while the host enqueues fn."""
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    events = []
    for _ in range(reps):
        if flush is not None:
            flush.zero_()
        start = torch.cuda.Event(enable_timing=True)
        end = torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        events.append((start, end))
    torch.cuda.synchronize()
    return statistics.median(s.elapsed_time(e) for s, e in events)


COLUMNS = [("W", 7), ("M", 3), ("N", 6), ("K", 6), ("tilus ms", 10),
           ("torch ms", 9), ("triton ms", 10), ("vs torch", 9),
           ("vs triton", 10), ("GB/s", 6), ("% copy", 7), ("check", 0)]


def print_row(values):
    cells = []
    for (name, width), v in zip(COLUMNS, values):
        cells.append(f"{v:<{width}}" if name in ("W", "check")
                     else f"{v:>{width}}")
    print("  ".join(cells).rstrip(), flush=True)


def fmt(x, spec):
    return "-" if x is None else format(x, spec)


def status_text(tilus_bad, triton_bad):
    if tilus_bad:
        return f"FAIL: {tilus_bad} elements of c"
    if triton_bad:
        return f"FAIL: {triton_bad} elements of triton's c"
    return "ok"


def problems(args, device):
    ms, shapes = TABLE[device]
    ms = [m for m in ms if not args.m or m in args.m]
    shapes = [s for s in shapes if not args.shapes or s in args.shapes]
    return [(w, m, n, k) for w in args.weights for n, k in shapes for m in ms]


class Kernels:
    """The bundle's precompiled kernels, loaded once each."""

    def __init__(self, bundle, dev):
        self.dir = os.path.join(bundle, "a16wx")
        self.dev, self.loaded = dev, {}

    def get(self, stem, kernel="matmul_a16wx"):
        if (stem, kernel) not in self.loaded:
            with open(os.path.join(self.dir, stem + ".ptx")) as ptx, \
                    open(os.path.join(self.dir, stem + ".json")) as meta:
                self.loaded[stem, kernel] = self.dev.load(
                    ptx.read(), meta.read(), kernel=kernel)
        return self.loaded[stem, kernel]

    def matmul(self, p, partial, arrivals):
        """A callable (a, b, scales, zeros, c, m, n, k) for problem p. With
        split-K the kernel writes the slices to `partial` (f32, SPLITK x M x
        N) and counts them in `arrivals` (i32, one per tile, zero and left
        zero); without, neither is touched."""
        main = self.get(p.stem)

        def run(a, b, s, z, c, m, n, k, timed=False):
            return main(a, b, s, z, c, partial, arrivals, m, n, k, timed=timed)
        return run

    @staticmethod
    def arrival_shape(p):
        return (-(-p.m // p.tile[0]), p.n // p.tile[1])


def prepare(tilus, args, device, configs, pool, workdir):
    """Problems in table order. Drawing and packing the weights run on the
    pool, so that later rows get ready while earlier ones are measured."""
    out, weights, packed = [], {}, {}
    for i, (w, m, n, k) in enumerate(problems(args, device)):
        if (w, m, n, k) not in configs:
            sys.exit(f"a16wx_bench: no kernel in the bundle for W={w} M={m} "
                     f"N={n} K={k} (make-bundle.sh compiles the table)")
        group, tile, split, stem = configs[w, m, n, k]
        assert group == GROUP
        if (w, n, k) not in weights:
            wt = Weights(tilus, w, n, k, seed=len(weights))
            weights[w, n, k] = (wt, pool.submit(wt.make))
        wt, made = weights[w, n, k]
        key = (w, n, k) + tile[1:]  # the layout depends on BN and BK only
        if key not in packed:
            packed[key] = pool.submit(pack, args.pack_tool, workdir, made,
                                      tile)
        out.append(Problem(wt, packed[key], m, stem, tile, split,
                           seed=1000 + i))
    return out


def run_emu(tilus, args, configs, pool, workdir):
    dev = tilus.Device("emu")
    kernels = Kernels(args.bundle, dev)
    print(f"matmul_a16wx on {dev.name} ({dev.description}): group {GROUP}, "
          "f16 activations, numpy inputs")
    print("  tilus wi: warp instructions executed, in place of a time (the "
          "emulator's time says nothing about a GPU)")
    print("  torch, triton, speedup and bandwidth columns skipped: no GPU "
          "(run with --device cuda on one)")
    print_row(["tilus wi" if c == "tilus ms" else c for c, _ in COLUMNS])
    failures = 0
    for p in prepare(tilus, args, "emu", configs, pool, workdir):
        p.ready()
        kernel = kernels.matmul(
            p, np.zeros((p.split, p.m, p.n), dtype=np.float32),
            np.zeros(Kernels.arrival_shape(p), dtype=np.int32))
        c = np.zeros((p.m, p.n), dtype=np.float16)
        stats = kernel(p.a, p.packed, p.scales, p.scales, c,
                       p.m, p.n, p.k, timed=True)
        _, bad = check(c.astype(np.float32), reference_numpy(p))
        failures += bad > 0
        print_row([p.w, p.m, p.n, p.k, f"{stats['warp_instructions']} wi",
                   "-", "-", "-", "-", "-", "-", status_text(bad, 0)])
    if args.torch:
        failures += run_torch_cpu(tilus, args, configs, pool, workdir, dev)
    return failures


def run_torch_cpu(tilus, args, configs, pool, workdir, dev):
    """The torch code path of --device cuda on CPU tensors through the
    emulator: inputs, the f32 reference, the Triton weight packing."""
    try:
        import torch
    except ImportError as e:
        print(f"--torch: skipped ({e})")
        return 0
    kernels = Kernels(args.bundle, dev)
    failures = 0
    print("torch code path on CPU tensors through the emulator:")
    for p in prepare(tilus, args, "emu", configs, pool, workdir):
        t = to_torch(torch, p, "cpu")
        partial = torch.zeros((p.split, p.m, p.n), dtype=torch.float32)
        arrivals = torch.zeros(Kernels.arrival_shape(p), dtype=torch.int32)
        kernels.matmul(p, partial, arrivals)(
            t["a"], t["b"], t["scales"], t["scales"], t["c"], p.m, p.n, p.k)
        ref, _ = reference_torch(torch, p, t["codes"], t["a"], t["scales"])
        _, bad = check(t["c"].float(), ref)
        note = ""
        if p.w == "u4":
            q = pack_u4_int32(torch, t["codes"])
            if not torch.equal(unpack_u4_int32(torch, q), t["codes"]):
                bad += 1
                note = " (triton int32 packing does not round-trip)"
        failures += bad > 0
        print(f"  W={p.w} M={p.m} N={p.n} K={p.k}: "
              f"{status_text(bad, 0)}{note}")
    return failures


def to_torch(torch, p, device):
    p.ready()
    return {"codes": torch.from_numpy(p.codes).to(device),
            "a": torch.from_numpy(p.a).to(device),
            "scales": torch.from_numpy(p.scales).to(device),
            "b": torch.from_numpy(p.packed).to(device),
            "c": torch.zeros((p.m, p.n), dtype=torch.float16, device=device)}


def run_cuda(tilus, args, configs, pool, workdir):
    import torch
    if not torch.cuda.is_available():
        sys.exit("a16wx_bench: torch finds no CUDA device (try --device emu)")
    torch.backends.cuda.matmul.allow_tf32 = False
    dev = tilus.Device("cuda")
    kernels = Kernels(args.bundle, dev)
    use_triton = triton is not None and not args.no_triton
    why_no_triton = ("--no-triton" if args.no_triton else TRITON_ERROR)

    copy_gbs = copy_bandwidth(torch, args.reps)
    flush = torch.empty(FLUSH_BYTES, dtype=torch.uint8, device=TORCH_DEVICE)

    print(f"matmul_a16wx on {torch.cuda.get_device_name()} (tilus: "
          f"{dev.description}): group {GROUP}, f16 activations")
    print(f"  median of {args.reps} runs each, CUDA events, L2 flushed "
          f"(256 MiB written) before each run")
    print(f"  copy bandwidth: {copy_gbs:.0f} GB/s (1 GiB device copy, bytes "
          f"read + written / time)")
    print("  torch: a @ w_f16 (dense f16 K x N weights); triton: W4A16 "
          "(u4 packed 8 per int32, autotuned), u4 rows only")
    if not use_triton:
        print(f"  triton column skipped: {why_no_triton}")
    print_row([c for c, _ in COLUMNS])
    failures, results = 0, []
    for p in prepare(tilus, args, "cuda", configs, pool, workdir):
        try:
            partial = torch.empty((p.split, p.m, p.n), dtype=torch.float32,
                                  device=TORCH_DEVICE)
            arrivals = torch.zeros(Kernels.arrival_shape(p),
                                   dtype=torch.int32, device=TORCH_DEVICE)
            r = measure(torch, p, kernels.matmul(p, partial, arrivals),
                        args.reps,
                        flush, use_triton)
        except Exception as e:  # a launch or Triton failure ends only the row
            failures += 1
            print_row([p.w, p.m, p.n, p.k] + ["-"] * 7 +
                      [f"FAIL: {type(e).__name__}: {e}"])
            continue
        if r["triton_error"]:
            print(f"  triton failed, skipped from here on: "
                  f"{r['triton_error']}")
            use_triton = False
        failures += (r["bad"] or r["triton_bad"]) > 0
        r["gbs"] = p.bytes_moved() / r["tilus"] / 1e6
        r["copy"] = 100 * r["gbs"] / copy_gbs
        results.append((p, r))
        vs_triton = r["triton"] and r["triton"] / r["tilus"]
        print_row([p.w, p.m, p.n, p.k, fmt(r["tilus"], ".4f"),
                   fmt(r["torch"], ".4f"), fmt(r["triton"], ".4f"),
                   fmt(r["torch"] / r["tilus"], ".2f") + "x",
                   fmt(vs_triton, ".2f") + ("x" if vs_triton else ""),
                   f"{r['gbs']:.0f}", f"{r['copy']:.0f}%",
                   status_text(r["bad"], r["triton_bad"])])
    summarize_targets(results)
    return failures


def measure(torch, p, kernel, reps, flush, use_triton):
    """Checks and times one row: tilus, torch's f16 matmul and (u4) Triton."""
    t = to_torch(torch, p, TORCH_DEVICE)
    a, b, s, c = t["a"], t["b"], t["scales"], t["c"]

    def run_tilus():
        kernel(a, b, s, s, c, p.m, p.n, p.k)
    run_tilus()
    ref, w = reference_torch(torch, p, t["codes"], a, s)
    r = {"bad": check(c.float(), ref)[1], "triton": None, "triton_bad": 0,
         "triton_error": None}
    r["tilus"] = median_ms(torch, run_tilus, reps, flush)

    r["torch"] = time_torch_matmul(torch, a, w.half(), reps, flush)
    del w

    if use_triton and p.w == "u4":
        try:
            q = pack_u4_int32(torch, t["codes"])
            ct = torch.zeros_like(c)
            triton_w4a16(a, q, s, ct)  # autotunes on the first call
            r["triton_bad"] = check(ct.float(), ref)[1]
            r["triton"] = median_ms(
                torch, lambda: triton_w4a16(a, q, s, ct), reps, flush)
        except Exception as e:
            r["triton_error"] = f"{type(e).__name__}: {e}"
    return r


def copy_bandwidth(torch, reps):
    """GB/s of a 1 GiB device-to-device copy, bytes read + written."""
    src = torch.empty(COPY_BYTES, dtype=torch.uint8, device=TORCH_DEVICE)
    dst = torch.empty_like(src)
    return 2 * COPY_BYTES / median_ms(torch, lambda: dst.copy_(src), reps) / 1e6


def time_torch_matmul(torch, a, w16, reps, flush):
    """torch's f16 matmul on the dense dequantized weights (K x N)."""
    c16 = torch.empty((a.shape[0], w16.shape[1]), dtype=torch.float16,
                      device=a.device)
    return median_ms(torch, lambda: torch.matmul(a, w16, out=c16), reps, flush)


def summarize_targets(results):
    """The W4A16 g128 targets for M <= 16, against the rows measured. A
    number, never a failure: a benchmark does not fail on a slow machine."""
    rows = [r for p, r in results if p.w == "u4" and p.m <= 16]
    if not rows:
        return
    print(f"targets, u4 g{GROUP} rows with M <= 16 (worst of {len(rows)}):")
    worst_torch = min(r["torch"] / r["tilus"] for r in rows)
    print(f"  vs torch  >= 3.5x: {worst_torch:.2f}x "
          f"({'met' if worst_torch >= 3.5 else 'not met'})")
    tri = [r["triton"] / r["tilus"] for r in rows if r["triton"]]
    if tri:
        print(f"  vs triton >= 1.5x: {min(tri):.2f}x "
              f"({'met' if min(tri) >= 1.5 else 'not met'})")
    else:
        print("  vs triton >= 1.5x: not measured")
    worst_copy = min(r["copy"] for r in rows)
    print(f"  bandwidth >= 85% of copy: {worst_copy:.0f}% "
          f"({'met' if worst_copy >= 85 else 'not met'})")


def int_list(text):
    return [int(x) for x in text.split(",") if x]


def shape_list(text):
    return [tuple(int(v) for v in s.split("x")) for s in text.split(",") if s]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("bundle", nargs="?",
                    default=os.path.dirname(os.path.abspath(__file__)))
    ap.add_argument("--device", choices=("cuda", "emu"), default="cuda")
    ap.add_argument("--reps", type=int, default=20)
    ap.add_argument("--weights", type=lambda s: s.split(","),
                    default=list(WEIGHTS))
    ap.add_argument("--m", type=int_list, default=None, help="e.g. 1,16")
    ap.add_argument("--shapes", type=shape_list, default=None,
                    help="NxK,... e.g. 8192x8192")
    ap.add_argument("--no-triton", action="store_true")
    ap.add_argument("--torch", action="store_true",
                    help="with --device emu: also run the torch code path "
                         "on CPU tensors")
    ap.add_argument("--pack-tool", default=None,
                    help="tilus-pack-weights (default: BUNDLE/build/bin, "
                         "else PATH)")
    ap.add_argument("--list-configs", action="store_true")
    args = ap.parse_args()
    if args.list_configs:
        list_configs()
        return 0
    global np
    import numpy as np
    args.reps = max(args.reps, 1)
    if not args.pack_tool:
        built = os.path.join(args.bundle, "build", "bin", "tilus-pack-weights")
        args.pack_tool = built if os.path.exists(built) else shutil.which(
            "tilus-pack-weights")
    if not args.pack_tool:
        sys.exit("a16wx_bench: tilus-pack-weights not found (--pack-tool)")
    sys.path.insert(0, os.path.join(args.bundle, "src", "python"))
    import tilus

    configs = read_configs(args.bundle)
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="a16wx-") as workdir, \
            ThreadPoolExecutor(max_workers=os.cpu_count() or 4) as pool:
        run = run_emu if args.device == "emu" else run_cuda
        failures = run(tilus, args, configs, pool, workdir)
    print(f"a16wx_bench: {'all outputs ok' if not failures else f'{failures} rows failed'}"
          f" ({time.time() - started:.0f} s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
