# lit configuration of the tilus test suite.
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
# %python is the interpreter running lit (CMake's Python3_EXECUTABLE), so the
# numpy found here is the one the tests get.
config.substitutions.append(("%python", sys.executable))
if subprocess.run([sys.executable, "-c", "import numpy"],
                  capture_output=True).returncode == 0:
    config.available_features.add("numpy")
