"""vector_add through the Python package on PyTorch CUDA tensors: the
runtime shares PyTorch's primary context (data_ptr() is passed as is) and
launches on its current stream. Prints rows for run.sh's table; exits 1 on
a mismatch."""
import os
import sys

import torch

bundle = sys.argv[1]
sys.path.insert(0, os.path.join(bundle, "src", "python"))
import tilus  # noqa: E402

cases = os.path.join(bundle, "cases")
dev = tilus.Device("cuda")
add = dev.load(open(os.path.join(cases, "vector_add_1m.ptx")).read(),
               open(os.path.join(cases, "vector_add_1m.json")).read())
failures = 0
for n in (1, 1000, 1 << 20, 12345679):
    a = torch.randn(n, device="cuda")
    b = torch.randn(n, device="cuda")
    c = torch.empty_like(a)
    stream = torch.cuda.Stream()
    with torch.cuda.stream(stream):
        add(a, b, c, n)  # on the current (side) stream
    stream.synchronize()
    ok = torch.equal(c, a + b)
    failures += not ok
    print(f"torch vector_add n={n:<9} {'ok' if ok else 'FAIL'}")

n = 1 << 24
a, b = torch.randn(n, device="cuda"), torch.randn(n, device="cuda")
c = torch.empty_like(a)
times = sorted(add(a, b, c, n, timed=True)["milliseconds"] for _ in range(20))
start, end = torch.cuda.Event(True), torch.cuda.Event(True)
torch_times = []
for _ in range(20):
    start.record()
    torch.add(a, b, out=c)
    end.record()
    end.synchronize()
    torch_times.append(start.elapsed_time(end))
torch_times.sort()
gb = 3 * 4 * n / 1e9
print(f"vector_add n=2^24: tilus {times[10]:.4f} ms ({gb / times[10] * 1e3:.0f} GB/s), "
      f"torch.add {torch_times[10]:.4f} ms ({gb / torch_times[10] * 1e3:.0f} GB/s)")
try:
    add(a, b, c[: n // 2], n)
    failures += 1
    print("size check: FAIL (no error)")
except tilus.TilusError as e:
    print("size check: ok:", e)
sys.exit(1 if failures else 0)
