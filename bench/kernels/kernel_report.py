#!/usr/bin/env python3
"""Kernel report: what tilusc makes of each example kernel, one row per
(case, arch).

For every case of the cases file (a name, an example .tl and -D defines) and
every target architecture it compiles the kernel to PTX with tilusc, then
prints the registers, spill bytes and static shared memory that `ptxas -v`
reports, the dynamic shared memory from tilusc's --metadata JSON, the mix of
memory, tensor-core and barrier instructions in the PTX, and tilusc's compile
time (the median wall time of --repeat runs).

The instruction counts are static: instructions in the PTX text, not
instructions executed. A loop body counts once however often it runs.

A case whose example file is missing is reported as "skipped (missing)" and a
case that does not compile as "compile failed: <first line of the error>";
neither stops the report, and the exit status is 0 unless --strict is given.
Without ptxas (not found, or --no-ptxas) the ptxas columns read "n/a" and the
header says why.

  kernel_report.py --tilusc build/bin/tilusc [--arch sm_80,sm_90a]
                   [--cases bench/kernels/cases.txt] [--only NAME,...]
                   [--repeat N] [--json FILE|-] [--no-ptxas] [--strict]

Standard library only.
"""

import argparse
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# The widths (bits) of the global-access columns; any other width a kernel
# uses still appears in the JSON.
GLOBAL_WIDTHS = (8, 16, 32, 64, 128)
LDMATRIX_SHAPES = ("x1", "x2", "x4")
CP_ASYNC_BYTES = (4, 8, 16)


# --- Cases -----------------------------------------------------------------


class Case:
    def __init__(self, name, example, defines, line):
        self.name = name
        self.example = example
        self.defines = defines
        self.line = line


def parse_cases(path):
    """Reads `NAME EXAMPLE [-D NAME=VALUE]...` lines; `#` starts a comment.
    Returns (cases, errors)."""
    cases, errors = [], []
    with open(path) as f:
        for number, text in enumerate(f, 1):
            text = text.split("#", 1)[0].strip()
            if not text:
                continue
            where = f"{path}:{number}"
            try:
                words = shlex.split(text)
            except ValueError as e:
                errors.append(f"{where}: {e}")
                continue
            if len(words) < 2:
                errors.append(f"{where}: expected NAME EXAMPLE [-D NAME=VALUE]...")
                continue
            defines, rest, ok = [], words[2:], True
            while rest:
                word = rest.pop(0)
                if word == "-D" and rest:
                    defines.append(rest.pop(0))
                elif word.startswith("-D") and len(word) > 2:
                    defines.append(word[2:])
                else:
                    errors.append(f"{where}: expected -D NAME=VALUE, got '{word}'")
                    ok = False
                    break
            if ok and any("=" not in d for d in defines):
                errors.append(f"{where}: a define is not NAME=VALUE")
                ok = False
            if ok:
                cases.append(Case(words[0], words[1], defines, where))
    return cases, errors


# --- PTX instruction mix ---------------------------------------------------

_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
# Directives that end at the end of their line, not at a semicolon.
_LINE_DIRECTIVES = re.compile(r"^[ \t]*\.(loc|file)\b[^\n]*$", re.M)
_FUNCTION = re.compile(r"\.(entry|func)\b(?:\s*\([^)]*\))?\s*([A-Za-z_$][\w$]*)")
_LABEL = re.compile(r"^[A-Za-z_$%][\w$]*\s*:\s*")
_GUARD = re.compile(r"^@!?%?\w+\s+")
_TYPE_BITS = re.compile(r"^[bsuf](8|16|32|64|128)$")


def function_body(ptx, start):
    """The text between the braces of the function whose header ends at
    start, or "" for a declaration without a body."""
    open_brace = ptx.find("{", start)
    if open_brace < 0 or ";" in ptx[start:open_brace]:
        return ""
    depth = 0
    for i in range(open_brace, len(ptx)):
        if ptx[i] == "{":
            depth += 1
        elif ptx[i] == "}":
            depth -= 1
            if depth == 0:
                return ptx[open_brace + 1:i]
    return ptx[open_brace + 1:]


def split_functions(ptx):
    """Maps each .entry name to its body; also lists the .func names with a
    body, which the report does not count."""
    ptx = _LINE_DIRECTIVES.sub("", _COMMENTS.sub("", ptx))
    entries, funcs = {}, []
    for m in _FUNCTION.finditer(ptx):
        params = ptx.find(")", m.end())
        body = function_body(ptx, params + 1 if params >= 0 else m.end())
        if m.group(1) == "entry":
            entries[m.group(2)] = body
        elif body:
            funcs.append(m.group(2))
    return entries, funcs


def opcodes(body):
    """Yields (opcode, operands) for each instruction of a function body."""
    for statement in body.split(";"):
        text = statement
        while True:
            text = text.lstrip("{} \t\r\n")
            label = _LABEL.match(text)
            if not label:
                break
            text = text[label.end():]
        text = _GUARD.sub("", text)
        if not text or text[0] == ".":
            continue
        parts = text.split(None, 1)
        yield parts[0], parts[1] if len(parts) > 1 else ""


def access_bits(parts):
    """The width of an ld/st: vector length times element size, or None."""
    vector = 1
    bits = None
    for p in parts[1:]:
        if re.fullmatch(r"v[0-9]+", p):
            vector = int(p[1:])
        elif _TYPE_BITS.match(p):
            bits = int(_TYPE_BITS.match(p).group(1))
    return vector * bits if bits else None


def count_mix(body):
    """The instruction mix of one function body: the report's columns and a
    histogram of every opcode."""
    mix = {
        "mma.sync": 0,
        "wgmma": 0,
        "ldmatrix": {s: 0 for s in LDMATRIX_SHAPES},
        "cp.async": {str(b): 0 for b in CP_ASYNC_BYTES},
        "ld.global": {str(w): 0 for w in GLOBAL_WIDTHS},
        "st.global": {str(w): 0 for w in GLOBAL_WIDTHS},
        "ld.shared": 0,
        "st.shared": 0,
        "bar.sync": 0,
    }
    histogram = {}
    for op, operands in opcodes(body):
        histogram[op] = histogram.get(op, 0) + 1
        parts = op.split(".")
        head = parts[0]
        if op.startswith("mma.sync"):
            mix["mma.sync"] += 1
        elif op.startswith("wgmma.mma_async"):
            mix["wgmma"] += 1
        elif head == "ldmatrix":
            shape = next((p for p in parts if p in LDMATRIX_SHAPES), "other")
            mix["ldmatrix"][shape] = mix["ldmatrix"].get(shape, 0) + 1
        elif op.startswith("cp.async.") and len(parts) > 2 and parts[2] in ("ca", "cg"):
            args = [a.strip() for a in re.split(r",(?![^\[]*\])", operands)]
            size = args[2] if len(args) > 2 else "other"
            mix["cp.async"][size] = mix["cp.async"].get(size, 0) + 1
        elif head in ("ld", "st") and "global" in parts:
            width = str(access_bits(parts) or "other")
            table = mix[head + ".global"]
            table[width] = table.get(width, 0) + 1
        elif head in ("ld", "st") and any(p.startswith("shared") for p in parts):
            mix[head + ".shared"] += 1
        elif head in ("bar", "barrier") and "sync" in parts:
            mix["bar.sync"] += 1
    return mix, histogram


# --- Tools -----------------------------------------------------------------


def first_line(text):
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def run(command):
    return subprocess.run(command, capture_output=True, text=True)


def find_ptxas(requested):
    """Returns (path, why-not)."""
    if requested:
        if os.sep not in requested:
            requested = shutil.which(requested) or requested
        if os.path.isfile(requested) and os.access(requested, os.X_OK):
            return requested, None
        return None, f"--ptxas {requested} is not an executable file"
    found = shutil.which("ptxas")
    if found:
        return found, None
    fallback = "/usr/local/cuda/bin/ptxas"
    if os.access(fallback, os.X_OK):
        return fallback, None
    return None, "ptxas not found on PATH or in /usr/local/cuda/bin"


def ptxas_version(ptxas):
    out = run([ptxas, "--version"]).stdout
    for line in out.splitlines():
        m = re.search(r"release ([0-9.]+)", line)
        if m:
            return m.group(1)
    return first_line(out) or "(version unknown)"


_PTXAS_ENTRY = re.compile(r"Compiling entry function '([^']+)'")
_PTXAS_SPILL = re.compile(r"(\d+) bytes spill stores, (\d+) bytes spill loads")
_PTXAS_REGS = re.compile(r"Used (\d+) registers")
_PTXAS_SMEM = re.compile(r"(\d+) bytes smem")


def run_ptxas(ptxas, ptx_path, arch, out_dir):
    """Maps each entry to its ptxas facts, or returns an error line."""
    result = run([ptxas, "-v", f"-arch={arch}", ptx_path,
                  "-o", os.path.join(out_dir, "kernel.cubin")])
    if result.returncode != 0:
        return None, (first_line(result.stderr + result.stdout)
                      or f"exit status {result.returncode}")
    facts, current = {}, None
    for line in (result.stderr + result.stdout).splitlines():
        m = _PTXAS_ENTRY.search(line)
        if m:
            current = facts.setdefault(m.group(1), {
                "registers": 0, "spillStoreBytes": 0, "spillLoadBytes": 0,
                "sharedStaticBytes": 0})
            continue
        if current is None:
            continue
        m = _PTXAS_SPILL.search(line)
        if m:
            current["spillStoreBytes"] = int(m.group(1))
            current["spillLoadBytes"] = int(m.group(2))
        m = _PTXAS_REGS.search(line)
        if m:
            current["registers"] = int(m.group(1))
            smem = _PTXAS_SMEM.search(line)
            current["sharedStaticBytes"] = int(smem.group(1)) if smem else 0
    return facts, None


# --- One case --------------------------------------------------------------


def measure(case, arch, args, ptxas, work):
    """The report's rows for one (case, arch): one per kernel of the file."""
    row = {"case": case.name, "example": case.example,
           "defines": case.defines, "arch": arch}
    example = case.example if os.path.isabs(case.example) else \
        os.path.join(args.root, case.example)
    if not os.path.isfile(example):
        return [dict(row, status="missing", error="skipped (missing)")]

    if example.endswith(".ptx"):
        # Already PTX: counted and assembled as it is, with no compile time
        # and no metadata.
        ptx_path, metadata, times = example, {}, []
    else:
        ptx_path = os.path.join(work, "kernel.ptx")
        meta_path = os.path.join(work, "kernel.json")
        command = [args.tilusc, example, "--emit=ptx", f"--arch={arch}",
                   "-o", ptx_path, f"--metadata={meta_path}"]
        for d in case.defines:
            command += ["-D", d]
        times = []
        for _ in range(args.repeat):
            start = time.perf_counter()
            result = run(command)
            times.append((time.perf_counter() - start) * 1000.0)
            if result.returncode != 0:
                error = first_line(result.stderr) or f"exit status {result.returncode}"
                error = error.replace(args.root + "/", "")
                return [dict(row, status="compile failed",
                             error="compile failed: " + error)]
        with open(meta_path) as f:
            metadata = {k["name"]: k for k in json.load(f).get("kernels", [])}

    with open(ptx_path) as f:
        entries, funcs = split_functions(f.read())
    if not entries:
        return [dict(row, status="no kernels", error="no .entry in the PTX")]
    facts, ptxas_error = (None, None)
    if ptxas:
        facts, ptxas_error = run_ptxas(ptxas, ptx_path, arch, work)

    rows = []
    for name, body in entries.items():
        mix, histogram = count_mix(body)
        out = dict(row, status="ok", kernel=name,
                   compileMs=statistics.median(times) if times else None,
                   compileMsRuns=[round(t, 3) for t in times],
                   sharedDynamicBytes=metadata.get(name, {}).get("sharedBytes"),
                   counts=mix, opcodes=dict(sorted(histogram.items())))
        if funcs:
            out["uncountedFunctions"] = funcs
        if facts is not None:
            out.update(facts.get(name, {}))
        elif ptxas_error:
            out["ptxasError"] = ptxas_error
        rows.append(out)
    return rows


# --- Output ----------------------------------------------------------------

COLUMNS = [
    "case", "arch", "regs", "spill st", "spill ld", "smem static", "smem dyn",
    "mma.sync", "wgmma", "ldmatrix x1/x2/x4", "cp.async 4/8/16B",
    "ld.global 8/16/32/64/128b", "st.global 8/16/32/64/128b", "ld.shared",
    "st.shared", "bar.sync", "compile ms",
]


def cells(row, multi_kernel):
    name = row["case"] + (":" + row["kernel"] if multi_kernel else "")
    if row["status"] != "ok":
        return [name, row["arch"], row["error"]]

    def fact(key):
        value = row.get(key)
        return "n/a" if value is None else str(value)

    def group(table, keys):
        text = "/".join(str(table.get(str(k), 0)) for k in keys)
        extra = sum(v for k, v in table.items() if k not in map(str, keys))
        return text + (f" +{extra}" if extra else "")

    c = row["counts"]
    return [name, row["arch"], fact("registers"), fact("spillStoreBytes"),
            fact("spillLoadBytes"), fact("sharedStaticBytes"),
            fact("sharedDynamicBytes"), str(c["mma.sync"]), str(c["wgmma"]),
            group(c["ldmatrix"], LDMATRIX_SHAPES),
            group(c["cp.async"], CP_ASYNC_BYTES),
            group(c["ld.global"], GLOBAL_WIDTHS),
            group(c["st.global"], GLOBAL_WIDTHS),
            str(c["ld.shared"]), str(c["st.shared"]), str(c["bar.sync"]),
            "n/a" if row["compileMs"] is None else f"{row['compileMs']:.1f}"]


def print_table(report, out):
    print(f"# tilus kernel report: {report['tilusVersion']}", file=out)
    if report["ptxas"]:
        print(f"# ptxas {report['ptxasVersion']} ({report['ptxas']}): "
              "regs, spills and static shared memory from ptxas -v", file=out)
    else:
        print(f"# ptxas: n/a ({report['ptxasNote']}): regs, spill and static "
              "shared memory columns read n/a", file=out)
    print("# instruction columns: static instruction counts over the PTX text, "
          "not dynamic (a loop body counts once)", file=out)
    print("# smem dyn: the kernel's dynamic shared memory from tilusc "
          "--metadata (sharedBytes); widths are vector length x element bits",
          file=out)
    print(f"# compile ms: tilusc to PTX, wall clock, median of "
          f"{report['repeat']} run(s)", file=out)

    rows = report["rows"]
    kernels = {}
    for r in rows:
        if r["status"] == "ok":
            key = (r["case"], r["arch"])
            kernels[key] = kernels.get(key, 0) + 1
    # A failed or skipped row is its case, its arch and a message.
    table = [list(COLUMNS)]
    table += [cells(r, kernels.get((r["case"], r["arch"]), 0) > 1) for r in rows]
    full = [line for line in table if len(line) == len(COLUMNS)]
    widths = [max(len(line[i]) for line in (table if i < 2 else full))
              for i in range(len(COLUMNS))]
    for line in table:
        text = [cell.ljust(widths[i]) if i < 2 or len(line) < len(COLUMNS)
                else cell.rjust(widths[i]) for i, cell in enumerate(line)]
        print("  ".join(text).rstrip(), file=out)
    for r in rows:
        if r.get("ptxasError"):
            print(f"# {r['case']} {r['arch']}: ptxas failed: {r['ptxasError']}",
                  file=out)
        if r.get("uncountedFunctions"):
            print(f"# {r['case']} {r['arch']}: .func bodies not counted: "
                  + ", ".join(r["uncountedFunctions"]), file=out)


def main(argv):
    parser = argparse.ArgumentParser(
        description="Registers, spills, shared memory, static PTX instruction "
                    "mix and compile time of tilusc's kernels")
    parser.add_argument("--tilusc", default=shutil.which("tilusc"),
                        help="the tilusc to run (default: tilusc on PATH)")
    parser.add_argument("--ptxas", default=None,
                        help="ptxas (default: on PATH, else /usr/local/cuda/bin/ptxas)")
    parser.add_argument("--no-ptxas", action="store_true",
                        help="do not run ptxas: its columns read n/a")
    parser.add_argument("--arch", default="sm_80,sm_90a",
                        help="comma-separated target architectures (default: sm_80,sm_90a)")
    parser.add_argument("--cases", default=os.path.join(HERE, "cases.txt"),
                        help="the cases file (default: cases.txt beside this script)")
    parser.add_argument("--root", default=ROOT,
                        help="where the cases' example paths start (default: the repository)")
    parser.add_argument("--only", default=None,
                        help="comma-separated case names to run (default: all)")
    parser.add_argument("--repeat", type=int, default=5,
                        help="compiles per (case, arch) whose median is the compile time")
    parser.add_argument("--json", default=None, metavar="FILE",
                        help="also write the report as JSON to FILE (-: to stdout, "
                             "instead of the table)")
    parser.add_argument("--strict", action="store_true",
                        help="exit status 1 when a case is missing or fails to compile, "
                             "or ptxas fails")
    args = parser.parse_args(argv)

    if args.tilusc and os.sep not in args.tilusc:
        args.tilusc = shutil.which(args.tilusc) or args.tilusc
    if not args.tilusc or not os.access(args.tilusc, os.X_OK):
        parser.error("no tilusc: pass --tilusc PATH")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    args.root = os.path.abspath(args.root)
    archs = [a.strip() for a in args.arch.split(",") if a.strip()]
    cases, errors = parse_cases(args.cases)
    for e in errors:
        print(f"kernel_report.py: {e}", file=sys.stderr)
    if errors:
        return 2
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {c.name for c in cases}
        if unknown:
            parser.error("no such case: " + ", ".join(sorted(unknown)))
        cases = [c for c in cases if c.name in wanted]

    ptxas, note = (None, "--no-ptxas") if args.no_ptxas else find_ptxas(args.ptxas)
    report = {
        "tilusc": os.path.abspath(args.tilusc),
        "tilusVersion": first_line(run([args.tilusc, "--version"]).stdout),
        "ptxas": ptxas, "ptxasVersion": ptxas_version(ptxas) if ptxas else None,
        "ptxasNote": note, "repeat": args.repeat, "staticCounts": True,
        "rows": [],
    }
    with tempfile.TemporaryDirectory(prefix="tilus-kernel-report-") as work:
        for case in cases:
            for arch in archs:
                report["rows"] += measure(case, arch, args, ptxas, work)

    if args.json == "-":
        json.dump(report, sys.stdout, indent=1)
        print()
    else:
        print_table(report, sys.stdout)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(report, f, indent=1)
                f.write("\n")
    failed = any(r["status"] != "ok" or r.get("ptxasError") for r in report["rows"])
    return 1 if args.strict and failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
