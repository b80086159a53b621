"""Loads a kernel whose metadata has each malformed \\u escape in turn and
prints the error (argv[1]: the source root)."""
import os
import sys

sys.path.insert(0, os.path.join(sys.argv[1], "python"))
import tilus  # noqa: E402

dev = tilus.Device("emu")
for escape in ["zzzz", " +1f", "12g4", "-001"]:
    metadata = '{"kernels": [{"name": "k\\u%s"}]}' % escape
    try:
        dev.load(".version 7.0\n", metadata)
        print(escape, "loaded")
    except tilus.TilusError as e:
        print(escape, "error:", e)
