#!/usr/bin/env python3
"""Checks that the project's #include lines run one way through its layers.

Every source file belongs to a layer by its path, and may include headers of
the layers its own layer is allowed to (docs/architecture.md draws them):

    ir core (dtype, layout)  <-  ir dialect  <-  ir interpreter
    ir core  <-  runtime (core, emu, cuda)
    ir  <-  frontend, target;  target  <-  passes  <-  codegen
    frontend, passes, codegen  <-  compiler  <-  runtime/jit
    support  <-  every layer (support itself includes nothing of the project)

Tools, benchmarks, tests and the Python package sit above everything and are
not checked. Usage: check_layers.py SOURCE_ROOT. Prints one line per include
that crosses a layer the wrong way, `file:line: error: ...`, and exits 1 if
there is any.
"""

import os
import re
import sys

# Layers by path prefix; the longest matching prefix wins.
LAYERS = {
    "support/": "support",
    "ir/dtype/": "ir-core",
    "ir/layout/": "ir-core",
    "ir/Limits.h": "ir-core",
    "ir/dialect/": "ir-dialect",
    "ir/interpreter/": "ir-interpreter",
    "runtime/core/": "runtime",
    "runtime/emu/": "runtime",
    "runtime/cuda/": "runtime",
    "include/tilus/": "api",
    "tilus/": "api",  # how the public headers are included
    "frontend/": "frontend",
    "target/": "target",
    "passes/": "passes",
    "codegen/": "codegen",
    "compiler/": "compiler",
    "runtime/jit/": "jit",
}

# What each layer may include besides itself; every layer but support may
# also include support (added below).
ALLOWED = {
    "support": set(),
    "ir-core": set(),
    "ir-dialect": {"ir-core"},
    "ir-interpreter": {"ir-core", "ir-dialect"},
    "api": set(),
    "runtime": {"ir-core", "api"},
    "frontend": {"ir-core", "ir-dialect"},
    "target": {"ir-core", "ir-dialect"},
    "passes": {"ir-core", "ir-dialect", "target"},
    "codegen": {"ir-core", "ir-dialect", "target", "passes"},
    "compiler": {"ir-core", "ir-dialect", "frontend", "target", "passes",
                 "codegen"},
    "jit": {"ir-core", "api", "runtime", "compiler"},
}
for _layer in ALLOWED:
    if _layer != "support":
        ALLOWED[_layer].add("support")

# Single headers a layer may include outside its rule, and why.
EXCEPTIONS = {
    # A kernel's host-side description (parameters, grid) is what the
    # frontend produces and the runtime consumes; it is a plain struct.
    ("frontend", "runtime/core/KernelInfo.h"),
    ("compiler", "runtime/core/KernelInfo.h"),
}

INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"')
SOURCES = (".cpp", ".h", ".inc")


def layer_of(path):
    best = None
    for prefix, layer in LAYERS.items():
        if path.startswith(prefix) and (best is None or len(prefix) > len(best[0])):
            best = (prefix, layer)
    return best[1] if best else None


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check_layers.py SOURCE_ROOT")
    root = sys.argv[1]
    errors = 0
    files = 0
    for top in ("support", "ir", "runtime", "include", "frontend", "target", "passes",
                "codegen", "compiler"):
        for dirpath, _, names in os.walk(os.path.join(root, top)):
            for name in sorted(names):
                if not name.endswith(SOURCES):
                    continue
                path = os.path.relpath(os.path.join(dirpath, name), root)
                layer = layer_of(path)
                if layer is None:
                    print(f"{path}:1: error: file is in no layer; add its "
                          "directory to LAYERS in check_layers.py")
                    errors += 1
                    continue
                files += 1
                with open(os.path.join(root, path), encoding="utf-8") as f:
                    for number, line in enumerate(f, 1):
                        match = INCLUDE.match(line)
                        if not match:
                            continue
                        header = match.group(1)
                        target = layer_of(header)
                        if (target is None or target == layer
                                or target in ALLOWED[layer]
                                or (layer, header) in EXCEPTIONS):
                            continue
                        allowed = ", ".join(sorted(ALLOWED[layer]))
                        allowed = ("only " + allowed if allowed
                                   else "nothing of the project")
                        print(f"{path}:{number}: error: {layer} includes "
                              f"{header} ({target}); {layer} may include "
                              f"{allowed}")
                        errors += 1
    if files == 0:
        print(f"{root}: error: no sources found")
        return 1
    print(f"{files} files checked, {errors} include(s) against the layers")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
