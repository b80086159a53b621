"""Inputs and the expected output of print_kernel.mlir.

usage: print_check.py make DIR | check DIR OUTPUT.txt
"""

import sys

import numpy as np


def inputs():
    rng = np.random.default_rng(3)
    x = (rng.integers(-40, 40, (4, 8)) / 4).astype(np.float32)
    w = rng.integers(-8, 8, (2, 4))
    return x, w


def main():
    x, w = inputs()
    d = sys.argv[2]
    if sys.argv[1] == "make":
        x.tofile(d + "/x.bin")
        codes = (w & 0xf).ravel()
        packed = bytes(int(codes[i]) | int(codes[i + 1]) << 4
                       for i in range(0, 8, 2))
        open(d + "/w.bin", "wb").write(packed)
        return
    lines = open(sys.argv[3]).read().splitlines()
    want = [f"x[{i}, {j}] = {float(x[i, j]):g}" for i in range(4)
            for j in range(8)]
    want += [f"w%[{i}, {j}] = {int(w[i, j])}" for i in range(2)
             for j in range(4)]
    # Every block prints: two blocks.
    want = want * 2 + ["n = 7", "f = 2.5"] * 2
    if sorted(lines) != sorted(want):
        print("FAIL: got", sorted(lines), "want", sorted(want))
        sys.exit(1)
    print(f"OK: {len(lines)} lines, each element once per block")


if __name__ == "__main__":
    main()
