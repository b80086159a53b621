"""Collects the seed corpus of each fuzz target from the examples and tests.

  make_corpus.py SOURCE_ROOT CORPUS_DIR TARGET...

Writes CORPUS_DIR/seeds/TARGET/ afresh (one file per seed) and creates the
working corpus CORPUS_DIR/TARGET/ that the fuzzer adds its finds to:
  frontend, compile  examples/*.tl and test/lit/frontend/*.tl
  layout             the expressions that tests and examples give tilus-layout,
                     .tl layout annotations and #tilus.layout<"..."> attributes
  ptx                the PTX of the emulator's tests and hardware probes
  cache              entries written by a tilusc --run (test/fuzz/seeds/cache)
"""
import glob
import hashlib
import os
import re
import shutil
import sys

root, corpus, targets = sys.argv[1], sys.argv[2], sys.argv[3:]


def files(*patterns):
    found = []
    for pattern in patterns:
        found += glob.glob(os.path.join(root, pattern), recursive=True)
    return sorted(set(found))


def layout_texts():
    texts = set()
    for path in files("test/lit/**/*.test", "test/lit/**/*.tl",
                      "test/lit/**/*.mlir", "examples/*.tl", "docs/*.md"):
        text = open(path, errors="replace").read()
        texts.update(re.findall(r"tilus-layout[^\n']*'([^'\n]+)'", text))
        texts.update(re.findall(r'#tilus\.layout<"([^"\n]+)"', text))
        # Annotations in .tl sources, and examples in the docs.
        texts.update(re.findall(
            r"\b((?:local|spatial|column_local|column_spatial|layout|shared)"
            r"\([^;\n`]*\))", text))
    return sorted(texts)


def seeds(target):
    if target in ("frontend", "compile"):
        return [open(p, "rb").read()
                for p in files("examples/*.tl", "test/lit/frontend/*.tl")]
    if target == "layout":
        return [t.encode() for t in layout_texts()]
    if target == "ptx":
        return [open(p, "rb").read()
                for p in files("test/lit/emu/**/*.ptx", "test/emu-hw/*.ptx")]
    if target == "cache":
        return [open(p, "rb").read() for p in files("test/fuzz/seeds/cache/*")]
    sys.exit(f"make_corpus.py: unknown target '{target}'")


for target in targets:
    out = os.path.join(corpus, "seeds", target)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    os.makedirs(os.path.join(corpus, target), exist_ok=True)
    data = seeds(target)
    for seed in data:
        name = hashlib.sha1(seed).hexdigest()
        with open(os.path.join(out, name), "wb") as f:
            f.write(seed)
    print(f"{target}: {len(data)} seeds")
