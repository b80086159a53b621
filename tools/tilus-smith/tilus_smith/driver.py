"""tilus-smith: generate, compile, run and check random kernels.

    tilus-smith --seed S --count N [--jobs J] [--keep-dir D] [--tilusc PATH]
                [--timeout T] [--no-reduce] [--keep-all] [--fail-on KINDS]

Programs S .. S+N-1 are generated (tilus_smith.gen), each compiled and run
on the emulator with the race check on and compared with the reference
interpreter (tilus_smith.run). The summary gives programs per second, the
count of each outcome, and coverage: the tilus dialect ops reached (of the
ops TilusOps.td defines, with the unary, comparison and reduction kinds),
the distinct PTX instructions emitted, and the code generator's remarks
(-Rpass=mma, -Rpass=vectorize: mma.sync or SIMT per dot, vector widths).
A mismatch or a crash is reduced (tilus_smith.reduce) and both the program
and its reduction are written to the keep directory with the outcome.
"""

import argparse
import collections
import concurrent.futures
import json
import os
import re
import shutil
import sys
import time

from . import gen, reduce, run

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.normpath(os.path.join(HERE, "..", "..", ".."))
FAILURES = ("mismatch", "crash")
# Ops a generated program cannot use: the reference interpreter does not
# run them (docs/interpreter.md), so no check could follow. (threadIdx.x is
# generated only where it does not change the results, and checked against
# a twin without it: run.py.)
UNCHECKABLE = {}


def default_tilusc():
    for cand in (os.environ.get("TILUSC"),
                 os.path.join(SOURCE_ROOT, "build", "bin", "tilusc"),
                 shutil.which("tilusc")):
        if cand and os.path.exists(cand):
            return cand
    return "tilusc"


def op_universe():
    """The dialect's ops and the kinds of unary, cmp and reduce."""
    td = os.path.join(SOURCE_ROOT, "ir", "dialect", "TilusOps.td")
    try:
        text = open(td).read()
    except OSError:
        return set()
    ops = set()
    for m in re.finditer(r'^def Tilus_\w+Op\s*:\s*Tilus_\w+<"(\w+)"', text,
                         re.M):
        ops.add("tilus." + m.group(1))
    kinds = {"UnaryKind": "tilus.unary", "CmpPredicate": "tilus.cmp",
             "ReduceKind": "tilus.reduce"}
    for enum, op in kinds.items():
        m = re.search(rf'def Tilus_{enum}\b.*?\]', text, re.S)
        if not m:
            continue
        for case in re.finditer(r'I32EnumAttrCase<"(\w+)", \d+(?:, "(\w+)")?>',
                                m.group(0)):
            ops.add(f"{op} {case.group(2) or case.group(1)}")
    # The enums' parents stand for their kinds.
    return ops - {"tilus.unary", "tilus.cmp", "tilus.reduce"}


def pattern_universe():
    """The code generator's lowerings as "tilus.OP by PATTERN", read from
    the `patterns.add<...>` lists in codegen/: a template pattern's op is its
    first argument (BinaryLowering<AddOp, ...>), another's the op its base
    is templated on (OpConversionPattern<XOp>, TmaPattern<XOp>)."""
    try:
        td = open(os.path.join(SOURCE_ROOT, "ir", "dialect",
                               "TilusOps.td")).read()
        files = [os.path.join(SOURCE_ROOT, "codegen", f) for f in
                 sorted(os.listdir(os.path.join(SOURCE_ROOT, "codegen")))
                 if f.endswith(".cpp")]
    except OSError:
        return set()
    mnemonic = {m.group(1) + "Op": "tilus." + m.group(2) for m in re.finditer(
        r'^def Tilus_(\w+)Op\s*:\s*Tilus_\w+<"(\w+)"', td, re.M)}
    base, entries = {}, []
    for path in files:
        text = open(path).read()
        # OpConversionPattern<XOp>, or a helper base templated on the op.
        for m in re.finditer(r"struct (\w+)\s*:\s*(?:public\s+)?"
                             r"\w+<(\w+Op)>", text):
            base[m.group(1)] = m.group(2)
        for m in re.finditer(r"patterns\.add<", text):
            i, depth, item = m.end(), 1, ""
            while depth:
                c = text[i]
                i += 1
                depth += {"<": 1, ">": -1}.get(c, 0)
                if depth == 0 or (c == "," and depth == 1):
                    entries.append(re.sub(r"/\*.*?\*/", "", item).strip())
                    item = ""
                else:
                    item += c
    universe = set()
    for entry in entries:
        m = re.match(r"(\w+)\s*(?:<\s*(\w+))?", entry)
        if m:
            op = m.group(2) or base.get(m.group(1), "?")
            universe.add(f"{mnemonic.get(op, op)} by {m.group(1)}")
    return universe


def check_one(seed, args):
    try:
        prog = gen.generate(seed)
    except Exception as e:  # a generator bug: counted, and the run goes on
        return {"seed": seed, "kind": "generator",
                "message": f"{type(e).__name__}: {e}", "ops": [], "ptx": [],
                "remarks": [], "patterns": [], "features": [], "seconds": 0.0}
    workdir = run.scratch_dir()
    try:
        t0 = time.time()
        outcome = run.run_program(
            prog.text, args.tilusc, workdir, timeout=args.timeout,
            collect=(seed - args.seed) % args.coverage_every == 0,
            archs=args.archs)
        result = {"seed": seed, "kind": outcome.kind,
                  "message": outcome.message, "ops": sorted(outcome.ops),
                  "ptx": sorted(outcome.ptx),
                  "remarks": sorted(outcome.remarks),
                  "patterns": sorted(outcome.patterns),
                  "features": prog.features, "seconds": time.time() - t0}
        keep = args.keep_dir and (outcome.kind != "pass" or args.keep_all)
        if keep:
            os.makedirs(args.keep_dir, exist_ok=True)
            base = os.path.join(args.keep_dir, f"{outcome.kind}-{seed}")
            with open(base + ".tl", "w") as f:
                f.write(prog.text)
            with open(base + ".txt", "w") as f:
                f.write(outcome.message + "\n")
        if outcome.kind in FAILURES and not args.no_reduce and args.keep_dir:
            # Only the target that failed is run while reducing.
            archs = (outcome.arch,) if outcome.arch else args.archs
            r = reduce.Reducer(prog.text, args.tilusc, workdir,
                               outcome.signature(), timeout=args.timeout,
                               budget=args.reduce_budget, archs=archs)
            small = r.reduce()
            path = os.path.join(args.keep_dir,
                                f"{outcome.kind}-{seed}.reduced.tl")
            with open(path, "w") as f:
                f.write(small)
            final = run.run_program(small, args.tilusc, workdir,
                                    timeout=args.timeout, collect=False,
                                    archs=archs)
            with open(os.path.join(args.keep_dir,
                                   f"{outcome.kind}-{seed}.txt"), "a") as f:
                f.write(f"reduced ({r.tests} runs, "
                        f"{len(prog.text.splitlines())} -> "
                        f"{len(small.splitlines())} lines): "
                        f"{final.message}\n")
            result["reduced"] = path
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def reduce_file(args):
    text = open(args.reduce_file).read()
    workdir = run.scratch_dir()
    try:
        outcome = run.run_program(text, args.tilusc, workdir,
                                  timeout=args.timeout, collect=False,
                                  archs=args.archs)
        sig = args.signature or outcome.signature()
        print(f"tilus-smith: reducing '{sig}'", file=sys.stderr)
        archs = (outcome.arch,) if outcome.arch else args.archs
        r = reduce.Reducer(text, args.tilusc, workdir, sig,
                           timeout=args.timeout, budget=args.reduce_budget,
                           archs=archs)
        sys.stdout.write(r.reduce())
        print(f"tilus-smith: {r.tests} runs", file=sys.stderr)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def summarize(results, seconds, universe, out=sys.stdout, summed=False):
    """`summed`: `seconds` adds up the programs' own times (a rate per job),
    not the wall clock of one run."""
    counts = collections.Counter(r["kind"] for r in results)
    n = len(results)
    if summed:
        print(f"tilus-smith: {n} programs, {seconds:.1f} s of program time "
              f"({n / max(seconds, 1e-9):.2f} programs/s per job)", file=out)
    else:
        print(f"tilus-smith: {n} programs in {seconds:.1f} s "
              f"({n / max(seconds, 1e-9):.2f} programs/s)", file=out)
    kinds = ["pass", "mismatch", "imprecise", "crash", "reject", "timeout",
             "generator"]
    print("  " + ", ".join(f"{k} {counts.get(k, 0)}" for k in kinds),
          file=out)
    ops = collections.Counter(o for r in results for o in r["ops"])
    tilus_ops = {o for o in ops if o.startswith("tilus.")}
    if universe:
        checkable = universe - set(UNCHECKABLE)
        hit = tilus_ops & checkable
        print(f"  dialect ops: {len(hit)} of {len(checkable)} tilus ops and "
              f"kinds reached", file=out)
        missing = sorted(checkable - tilus_ops)
        if missing:
            print("    not reached: " + ", ".join(missing), file=out)
        for op, why in sorted(UNCHECKABLE.items()):
            print(f"    not generated: {op} ({why})", file=out)
    other = sorted(o for o in ops if not o.startswith("tilus."))
    print(f"  other dialect ops: {len(other)} ({', '.join(other)})", file=out)
    ptx = collections.Counter(o for r in results for o in r["ptx"])
    print(f"  PTX instructions: {len(ptx)} distinct", file=out)
    families = collections.Counter()
    for o, c in ptx.items():
        families[o.split(".")[0]] += 1
    print("    by family: " + ", ".join(f"{k} {v}" for k, v in
                                        sorted(families.items())), file=out)
    patterns = {o for r in results for o in r.get("patterns", ())}
    lowerings = pattern_universe()
    if lowerings:
        print(f"  lowering patterns: {len(patterns & lowerings)} of "
              f"{len(lowerings)} (op, pattern) pairs of codegen/ reached",
              file=out)
        missing = sorted(lowerings - patterns)
        if missing:
            print("    not reached: " + ", ".join(missing), file=out)
    remarks = collections.Counter(o for r in results for o in r["remarks"])
    print(f"  codegen remarks: {len(remarks)} distinct", file=out)
    for text, c in remarks.most_common(12):
        print(f"    {c:5d}  {text}", file=out)
    feats = collections.Counter(f for r in results for f in r["features"])
    print(f"  generator features: {len(feats)} distinct", file=out)
    for r in results:
        if r["kind"] in ("mismatch", "crash", "timeout"):
            line = f"  {r['kind']} seed {r['seed']}: {r['message'][:200]}"
            if r.get("reduced"):
                line += f"\n    reduced: {r['reduced']}"
            print(line, file=out)
    rejects = collections.Counter(
        re.sub(r"^.*?error: ", "", re.sub(r"\d+", "N", r["message"]))[:100]
        for r in results if r["kind"] == "reject")
    for text, c in rejects.most_common(8):
        print(f"  reject x{c}: {text}", file=out)


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="tilus-smith",
        description="Random valid tile-language kernels, run on the emulator "
                    "and checked against the reference interpreter.")
    p.add_argument("--seed", type=int, default=1, help="first seed")
    p.add_argument("--count", type=int, default=100, help="programs to run")
    p.add_argument("--jobs", type=int, default=1, help="programs at once")
    p.add_argument("--keep-dir", help="write failing programs, their "
                   "reductions and outcomes here")
    p.add_argument("--keep-all", action="store_true",
                   help="also keep passing and rejected programs")
    p.add_argument("--tilusc", default=default_tilusc(), help="the compiler")
    p.add_argument("--arch", default=",".join(run.ARCHS),
                   help="comma-separated targets each program is compiled "
                        "for and run on the emulator (default: %(default)s)")
    p.add_argument("--coverage-every", type=int, default=1, metavar="K",
                   help="collect coverage (--emit=tilus and --emit=ptx with "
                        "remarks) for every K-th program only (default 1)")
    p.add_argument("--progress", type=int, default=0, metavar="N",
                   help="print a progress line to stderr every N programs")
    p.add_argument("--timeout", type=float, default=60,
                   help="seconds per compile or run")
    p.add_argument("--no-reduce", action="store_true",
                   help="do not reduce failures")
    p.add_argument("--reduce-budget", type=int, default=400,
                   help="most runs one reduction may take")
    p.add_argument("--print", dest="print_seed", type=int,
                   help="print the program of this seed and exit")
    p.add_argument("--json", help="write every program's result here")
    p.add_argument("--reduce", dest="reduce_file",
                   help="reduce this program (its failure as it runs now) "
                        "and print the reduction")
    p.add_argument("--signature",
                   help="with --reduce: the failure to keep, e.g. 'reject: "
                        "...' (default: what the program does now)")
    p.add_argument("--summarize", nargs="+", metavar="JSON",
                   help="print the summary of earlier runs' --json files "
                        "together (their programs' own seconds summed) "
                        "and exit")
    p.add_argument("--fail-on", default="",
                   help="comma-separated outcomes that make the exit status "
                        "1 (e.g. mismatch,crash,reject,timeout)")
    args = p.parse_args(argv)
    args.archs = tuple(a for a in args.arch.split(",") if a)
    if not args.archs or args.coverage_every < 1:
        p.error("--arch needs a target and --coverage-every K >= 1")
    if args.print_seed is not None:
        sys.stdout.write(gen.generate(args.print_seed).text)
        return 0
    if args.summarize:
        results = []
        for path in args.summarize:
            with open(path) as f:
                results += json.load(f)
        results.sort(key=lambda r: r["seed"])
        summarize(results, sum(r["seconds"] for r in results),
                  op_universe(), summed=True)
        return 0
    if args.keep_dir:
        args.keep_dir = os.path.abspath(args.keep_dir)
    if args.reduce_file:
        return reduce_file(args)
    seeds = range(args.seed, args.seed + args.count)
    t0 = time.time()
    results = []
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as pool:
        futures = [pool.submit(check_one, s, args) for s in seeds]
        for fut in concurrent.futures.as_completed(futures):
            r = fut.result()
            results.append(r)
            if args.progress and len(results) % args.progress == 0:
                bad = sum(x["kind"] not in ("pass", "imprecise")
                          for x in results)
                dt = time.time() - t0
                print(f"tilus-smith: {len(results)} of {len(futures)} "
                      f"programs, {bad} not passing, {dt:.0f} s "
                      f"({len(results) / dt:.2f}/s)", file=sys.stderr,
                      flush=True)
            if r["kind"] not in ("pass", "imprecise"):
                print(f"seed {r['seed']}: {r['kind']}: {r['message'][:200]}",
                      file=sys.stderr, flush=True)
    results.sort(key=lambda r: r["seed"])
    summarize(results, time.time() - t0, op_universe())
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1)
    fail_on = {k for k in args.fail_on.split(",") if k}
    return 1 if any(r["kind"] in fail_on for r in results) else 0
