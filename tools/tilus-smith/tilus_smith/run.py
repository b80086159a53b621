"""Compiles and runs one program, and classifies what happened.

Each program goes through `tilusc` for every target (sm_80 and sm_90a by
default): `--emit=tilus` once (the dialect ops it reaches) and, per target,
`--emit=ptx -Rpass=mma -Rpass=vectorize -Rpass=lowering` (the PTX
instructions, the code generator's choices and the patterns that lowered
each op; these coverage compiles may be skipped) and `--run
--device=emu --no-cache --check` on the emulator with the race check
stopping at the first hazard, which compares every element of every buffer
with the reference interpreter. The outcome is one of

  pass       the check passed
  mismatch   the emulator and the interpreter differ (a miscompile, or an
             emulator or interpreter bug)
  imprecise  differ within 1e-2 in a program with inexact float results:
             a precision question rather than a miscompile
  crash      a signal, an internal error or an emulator fault (race, bad
             access, no progress) on a program the compiler accepted
  reject     the compiler rejected the program (a generator bug, unless
             the program is valid and the compiler is wrong)
  timeout    a step ran past its time limit
"""

import os
import re
import subprocess
import tempfile

PROGRAM_NAME = "smith.tl"


class Outcome:
    def __init__(self, kind, message="", ops=(), ptx=(), remarks=(),
                 arch=None, patterns=()):
        self.kind = kind
        self.patterns = set(patterns)  # "tilus.OP by PATTERN" lowerings
        self.arch = arch            # the target that failed, if one did
        self.message = message
        self.ops = set(ops)
        self.ptx = set(ptx)
        self.remarks = set(remarks)

    def signature(self):
        """What a reduced program must keep to count as the same failure."""
        msg = self.message
        if self.kind == "mismatch":
            return "mismatch"
        msg = re.sub(r"\S*\.(tl|ptx)\b", "FILE", msg)
        msg = re.sub(r"0x[0-9a-f]+|\d+", "N", msg)
        msg = re.sub(r"'[^']*'", "'X'", msg)
        return f"{self.kind}: {msg[:80]}"


def header_value(text, key):
    m = re.search(rf"^// {key}: (.*)$", text, re.M)
    return m.group(1).strip() if m else None


def run_tool(cmd, timeout, env=None):
    try:
        p = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=timeout, env=env, errors="replace")
    except subprocess.TimeoutExpired:
        return None
    return p


def first_error(text):
    for line in text.splitlines():
        if "error" in line.lower() or "assert" in line.lower() or \
                "race" in line.lower():
            return line.strip()
    lines = [l for l in text.splitlines() if l.strip()]
    return lines[-1].strip() if lines else ""


def dialect_ops(mlir):
    ops = set()
    for line in mlir.splitlines():
        line = line.strip()
        line = re.sub(r"^(%[\w#:, %]+ = )", "", line)
        m = re.match(r"([a-z_]+\.[a-z_.]+)(\s+([a-z_0-9]+)\b)?", line)
        if not m:
            continue
        name = m.group(1)
        if name in ("tilus.unary", "tilus.cmp", "tilus.reduce",
                    "tilus.scalar_unary") and m.group(3):
            name += " " + m.group(3)
        ops.add(name)
    return ops


def ptx_opcodes(ptx):
    ops = set()
    for line in ptx.splitlines():
        line = line.strip()
        if not line or line.startswith(("//", ".", "{", "}", "$")) or \
                line.endswith(":"):
            continue
        line = re.sub(r"^@!?%\w+\s+", "", line)
        op = line.split()[0].rstrip(";")
        if re.match(r"^[a-z]", op):
            ops.add(op)
    return ops


def lowering_patterns(stderr):
    """The (op, pattern) pairs of -Rpass=lowering's remarks."""
    return {f"{m.group(1)} by {m.group(2)}" for m in
            re.finditer(r"remark: (tilus\.\w+): lowered by (\w+)", stderr)}


def remark_kinds(stderr):
    kinds = set()
    for line in stderr.splitlines():
        m = re.search(r"remark: (.*)", line)
        if not m or ": lowered by " in m.group(1):
            continue
        text = re.sub(r"\d+", "N", m.group(1))
        text = re.sub(r"'[^']*'", "'X'", text)
        text = re.sub(r"%\w+", "%v", text)
        kinds.add(text[:100])
    return kinds


ARCHS = ("sm_80", "sm_90a")


def run_program(text, tilusc, workdir, timeout=60, seed=1,
                collect=True, archs=ARCHS):
    """Compiles, runs and checks `text` for each target of `archs`; returns
    the first outcome that is not a pass (its message names the target),
    else a pass. With `collect`, also the coverage: the dialect ops once,
    the PTX instructions and remarks of every target."""
    path = os.path.join(workdir, PROGRAM_NAME)
    with open(path, "w") as f:
        f.write(text)
    # A program that needs a target (`// ARCHS: sm_90a`: TMA) runs on the
    # requested targets it allows, or on its own when none is requested.
    needed = header_value(text, "ARCHS")
    if needed:
        allowed = needed.split(",")
        archs = tuple(a for a in archs if a in allowed) or tuple(allowed)
    ops, opcodes, remarks, patterns = set(), set(), set(), set()
    if collect:
        p = run_tool([tilusc, path, "--emit=tilus"], timeout)
        if p is None:
            return Outcome("timeout", "compile to the tilus dialect")
        if p.returncode != 0:
            return classify_compile(p)
        ops = dialect_ops(p.stdout)
        for arch in archs:
            p = run_tool([tilusc, path, "--emit=ptx", f"--arch={arch}",
                          "--verify-each", "-Rpass=mma", "-Rpass=vectorize",
                          "-Rpass=lowering"],
                         timeout)
            if p is None:
                return Outcome("timeout", f"[{arch}] compile to PTX", ops)
            if p.returncode != 0:
                o = classify_compile(p, ops, arch)
                o.arch = arch
                return o
            opcodes |= ptx_opcodes(p.stdout)
            remarks |= remark_kinds(p.stderr)
            patterns |= lowering_patterns(p.stderr)
    for arch in archs:
        kind, msg = run_one(text, path, tilusc, arch, timeout, seed)
        if kind != "pass":
            return Outcome(kind, f"[{arch}] {msg}", ops, opcodes, remarks,
                           arch, patterns)
    return Outcome("pass", "", ops, opcodes, remarks, patterns=patterns)


def run_one(text, path, tilusc, arch, timeout, seed):
    """Runs the program compiled for `arch` on the emulator against the
    interpreter: (outcome kind, message)."""
    shape = header_value(text, "SHAPE")
    tol = header_value(text, "TOLERANCE")
    env = dict(os.environ, TILUS_EMU_RACECHECK="stop")
    cmd = [tilusc, path, "--run", "--device=emu", f"--arch={arch}",
           "--no-cache", "--check", "--verify-each", f"--seed={seed}"]
    if shape:
        cmd.append(f"--shape={shape}")
    if tol:
        cmd.append(f"--check-tolerance={tol}")
    # The interpreter runs a block once, not once per thread: a program that
    # reads threadIdx.x only where it does not change the results (the
    # generator's `threadIdx.x / THREADS`, always 0, and `threadIdx.x <
    # THREADS`, always true) is checked against its twin with 0 for it.
    if "threadIdx.x" in text:
        twin = os.path.join(os.path.dirname(path), "twin.tl")
        with open(twin, "w") as f:
            f.write(text.replace("threadIdx.x", "0"))
        cmd.append(f"--check-reference={twin}")
    p = run_tool(cmd, timeout, env)
    if p is None:
        return "timeout", "run"
    out = p.stdout + p.stderr
    if p.returncode == 0 and "check passed" in out:
        return "pass", ""
    if p.returncode == 1 and "check failed" in out:
        msg = first_error(out)
        # Inexact programs: a difference within 1e-2 is a question of
        # precision, not of meaning.
        if tol is not None or inexact(text):
            cmd2 = [c for c in cmd if not c.startswith("--check-tolerance")]
            p2 = run_tool(cmd2 + ["--check-tolerance=0.01"], timeout, env)
            if p2 is not None and p2.returncode == 0:
                return "imprecise", msg
        return "mismatch", msg
    if p.returncode == 1 and re.search(r"\.tl:\d+:\d+: error", out):
        return "reject", first_error(out)
    return "crash", f"rc={p.returncode}: {first_error(out)}"


def inexact(text):
    return re.search(r"\b(exp|exp2|log|log2|rsqrt|tanh|sin|cos|reduce_sum|"
                     r"dot)\(", text) is not None


def classify_compile(p, ops=(), arch=None):
    out = p.stdout + p.stderr
    where = f"[{arch}] " if arch else ""
    if p.returncode == 1 and re.search(r"error", out) and \
            "Assertion" not in out and "LLVM ERROR" not in out and \
            "Stack dump" not in out:
        return Outcome("reject", where + first_error(out), ops)
    return Outcome("crash", f"{where}rc={p.returncode}: {first_error(out)}",
                   ops)


def scratch_dir():
    return tempfile.mkdtemp(prefix="tilus-smith-")
