"""Prints the modelled critical-path cycles of the lines of a profiled
example (profile JSON) whose source text contains each of the given
strings: `wgmma_path.py PROFILE.json EXAMPLE.tl TEXT...`."""
import json
import sys

profile = json.load(open(sys.argv[1]))
source = open(sys.argv[2]).read().splitlines()
cycles = {l["line"]: l["path_cycles"] for l in profile["lines"]}
for text in sys.argv[3:]:
    lines = [n + 1 for n, s in enumerate(source) if text in s]
    print(text, int(sum(cycles.get(n, 0) for n in lines)))
