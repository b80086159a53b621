"""Writes a tilus module with a global tensor and a tile of every data type
that `tilus-dtype --list` names, spelled as docs/dtypes.md says, and the
list of spellings expected back (one per line) for FileCheck."""
import subprocess
import sys

BUILTIN = {"f16": "f16", "bf16": "bf16", "f32": "f32", "bool": "i1",
           "i8": "i8", "i16": "i16", "i32": "i32", "i64": "i64"}
names = subprocess.run(["tilus-dtype", "--list"], check=True,
                       capture_output=True, text=True).stdout.split()
module, checks = sys.argv[1], sys.argv[2]
with open(module, "w") as m, open(checks, "w") as c:
    for i, name in enumerate(names):
        spelled = BUILTIN.get(name, f"!tilus.{name}")
        m.write(f"func.func @t{i}(%g: !tilus.global<?x{spelled}>, "
                f"%t: !tilus.tile<4x{spelled}>) {{\n  return\n}}\n")
        c.write(f"CHECK-LABEL: func.func @t{i}(\n")
        c.write(f"CHECK-SAME: !tilus.global<?x{spelled}>, "
                f"%{{{{.*}}}}: !tilus.tile<4x{spelled}>)\n")
print(len(names))
