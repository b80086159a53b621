"""Copies a PTX file, adding after the first `wgmma.wait_group.sync.aligned 1;`
a write of the first A register of the last wgmma.mma_async before it (whose
group that wait leaves in flight): the write the race check must report."""
import re
import sys

text = open(sys.argv[1]).read().split("\n")
wait = next(i for i, line in enumerate(text)
            if "wgmma.wait_group.sync.aligned 1;" in line)
last = max(i for i in range(wait) if "wgmma.mma_async" in text[i])
reg = re.search(r"\}, \{(%r\d+),", text[last]).group(1)
text.insert(wait + 1, f"\tmov.b32 \t{reg}, 0;")
open(sys.argv[2], "w").write("\n".join(text))
