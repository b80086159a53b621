# lit configuration of the tilus test suite.
import glob
import os
import shutil
import subprocess
import sys

import lit.formats

config.name = "tilus"
config.test_format = lit.formats.ShTest(execute_external=True)
config.suffixes = [".mlir", ".tl", ".test", ".ptx"]
config.excludes = ["Inputs", "lit.cfg.py", "lit.site.cfg.py", "CMakeLists.txt"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.tilus_obj_root, "test", "lit")

# Tools: the project's own first, then LLVM's (FileCheck, not, count).
path = [config.tilus_tools_dir]
if config.llvm_tools_dir:
    path.append(config.llvm_tools_dir)
path.append(config.environment.get("PATH", os.environ.get("PATH", "")))
config.environment["PATH"] = os.pathsep.join(path)
for var in ("HOME", "TMPDIR"):
    if var in os.environ:
        config.environment[var] = os.environ[var]
# Tests never touch the user's kernel cache.
config.environment["TILUS_CACHE_DIR"] = os.path.join(config.test_exec_root, "cache")

config.substitutions.append(("%examples", os.path.join(config.tilus_src_root, "examples")))
config.substitutions.append(("%inputs", os.path.join(config.test_source_root, "Inputs")))

if config.build_compiler:
    config.available_features.add("compiler")
if config.ptxas and os.path.exists(config.ptxas):
    config.available_features.add("ptxas")
    config.substitutions.append(("%ptxas", config.ptxas))
if config.nvcc and os.path.exists(config.nvcc):
    config.available_features.add("nvcc")
    config.substitutions.append(("%nvcc", config.nvcc))
if shutil.which("python3"):
    config.available_features.add("python3")
# A committed GPU capture (bench/gpu/capture.sh) to check the model against.
if glob.glob(os.path.join(config.tilus_src_root, "bench/gpu/results/*/ncu.csv")):
    config.available_features.add("gpu-capture")
# %python is the interpreter running lit (CMake's Python3_EXECUTABLE), so the
# numpy found here is the one the tests get.
# In a sanitized build (TILUS_SANITIZE) every tool reports through the
# shared ASan runtime; test/sanitize/sanitize.py says with which options.
# Python loading libtilus through ctypes needs that runtime preloaded, and
# the interpreter's own allocations at exit are not this project's leaks.
# %run_uninstrumented runs a program that is linked against libtilus but
# built outside the project (examples/embed through the installed package),
# so without the runtime linked in.
config.python = sys.executable
run_uninstrumented = ""
if config.sanitize:
    sys.path.insert(0, os.path.join(config.tilus_src_root, "test", "sanitize"))
    import sanitize
    config.environment.update(sanitize.environment(config.tilus_src_root))
    config.python = sanitize.python_command(config.tilus_src_root,
                                            config.asan_runtime,
                                            sys.executable)
    run_uninstrumented = sanitize.preload_command(config.asan_runtime)
    config.available_features.add("sanitize")
config.substitutions.append(("%python", config.python))
config.substitutions.append(("%run_uninstrumented", run_uninstrumented))
if subprocess.run([sys.executable, "-c", "import numpy"],
                  capture_output=True).returncode == 0:
    config.available_features.add("numpy")

# The runtime's tests: the Python package (ctypes + numpy), a usable NVIDIA
# driver with a GPU (else the GPU tests are unsupported), the toolkit's stub
# driver library, CMake for building against the installed package, and
# whether permissions bind (root ignores a read-only directory).
import subprocess
import sys

if subprocess.call([sys.executable, "-c", "import numpy"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0:
    config.available_features.add("python3-numpy")
if subprocess.call([sys.executable, "-c", "import torch"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) == 0:
    config.available_features.add("python3-torch")


def _cuda_gpu_present():
    import ctypes
    try:
        cuda = ctypes.CDLL("libcuda.so.1")
    except OSError:
        return False
    count = ctypes.c_int(0)
    return cuda.cuInit(0) == 0 and cuda.cuDeviceGetCount(ctypes.byref(count)) == 0 \
        and count.value > 0


if _cuda_gpu_present():
    config.available_features.add("cuda-driver")
if os.path.exists("/usr/local/cuda/lib64/stubs/libcuda.so"):
    config.available_features.add("cuda-stub")
if shutil.which("cmake"):
    config.available_features.add("cmake")
if hasattr(os, "geteuid") and os.geteuid() != 0:
    config.available_features.add("non-root")
