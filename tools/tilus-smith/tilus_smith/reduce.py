"""Delta debugging of a failing program down to a small reproducer.

A candidate is kept when running it gives the same failure signature
(run.Outcome.signature: a mismatch stays a mismatch, a crash keeps its
message). The passes, repeated until none makes progress:

* sizes: each compile-time parameter in the kernel header (`D3 = 64`, the
  grid `G`), the warp count and the `--shape` values are lowered (to 1,
  then halved, then decremented);
* statements: ddmin over the statements of every block (a compound
  statement, `for`/`while`/`if` with its body, is one unit), then each
  compound statement replaced by its body;
* clean-up: layout annotations dropped, and header parameters no
  statement mentions removed.

Work is on the text, line by line: the generator writes one statement (or
block opener/closer) per line, and a hand-written reproducer in that style
reduces too.
"""

import re

from . import run


class Reducer:
    def __init__(self, text, tilusc, workdir, signature, timeout=60,
                 log=None, budget=600, archs=run.ARCHS):
        self.text = text
        self.archs = archs
        self.tilusc = tilusc
        self.workdir = workdir
        self.signature = signature
        self.timeout = timeout
        self.tests = 0
        self.log = log
        self.budget = budget

    def interesting(self, text):
        if text == self.text:
            return True
        if self.tests >= self.budget or not defined(text):
            return False
        self.tests += 1
        o = run.run_program(text, self.tilusc, self.workdir,
                            timeout=self.timeout, collect=False,
                            archs=self.archs)
        ok = o.signature() == self.signature
        if ok:
            self.text = text
        return ok

    # ---- structure ---------------------------------------------------------------
    @staticmethod
    def split(text):
        """(head lines, body lines, tail lines) around the kernel body."""
        lines = text.split("\n")
        start = next(i for i, l in enumerate(lines) if l.strip() == "{")
        end = max(i for i, l in enumerate(lines) if l.strip() == "}")
        return lines[: start + 1], lines[start + 1: end], lines[end:]

    @staticmethod
    def units(body):
        """Top-level units of a list of body lines: (start, end) spans."""
        spans = []
        i = 0
        while i < len(body):
            depth = body[i].count("{") - body[i].count("}")
            j = i
            while depth > 0 and j + 1 < len(body):
                j += 1
                depth += body[j].count("{") - body[j].count("}")
            spans.append((i, j + 1))
            i = j + 1
        return spans

    def blocks(self, body):
        """Every list of sibling units, as (offset, lines) of a block body,
        outermost first."""
        out = [(0, body)]
        for a, b in self.units(body):
            if b - a >= 2 and body[a].rstrip().endswith("{"):
                inner = body[a + 1: b - 1]
                # `} else {` splits a block into two bodies; treat the
                # whole inner range as one list of units (the else line
                # is a unit of its own that is never removed alone).
                for off, lines in self.blocks(inner):
                    out.append((a + 1 + off, lines))
        return out

    # ---- passes ---------------------------------------------------------------------
    def reduce(self):
        progress = True
        while progress and self.tests < self.budget:
            before = self.text
            self.reduce_sizes()
            self.reduce_statements()
            self.unwrap_blocks()
            self.drop_annotations()
            self.simplify_expressions()
            self.drop_unused_params()
            progress = self.text != before
        return self.text.rstrip("\n") + "\n"

    def reduce_sizes(self):
        head = re.search(r"kernel \w+<([^>]*)>", self.text)
        if head:
            names = re.findall(r"(\w+) = (\d+)", head.group(1))
            for name, value in names:
                for smaller in candidates(int(value)):
                    cur = re.search(rf"\b{name} = (\d+)", self.text)
                    if not cur or smaller >= int(cur.group(1)):
                        continue
                    new = re.sub(rf"\b{name} = \d+", f"{name} = {smaller}",
                                 self.text, count=1)
                    if self.interesting(new):
                        break
        m = re.search(r"warps\((\d+)\)", self.text)
        if m:
            for w in [1, 2, 4]:
                if w < int(m.group(1)):
                    new = self.text.replace(m.group(0), f"warps({w})", 1)
                    if self.interesting(new):
                        break
        shape = run.header_value(self.text, "SHAPE")
        if shape:
            for part in shape.split(","):
                name, value = part.split("=")
                for smaller in candidates(int(value)):
                    cur = run.header_value(self.text, "SHAPE")
                    vals = dict(p.split("=") for p in cur.split(","))
                    if smaller >= int(vals[name]):
                        continue
                    vals[name] = str(smaller)
                    new_shape = ",".join(f"{k}={v}" for k, v in vals.items())
                    new = self.text.replace(f"// SHAPE: {cur}",
                                            f"// SHAPE: {new_shape}", 1)
                    if self.interesting(new):
                        break

    def reduce_statements(self):
        changed = True
        while changed and self.tests < self.budget:
            changed = False
            head, body, tail = self.split(self.text)
            for off, lines in self.blocks(body):
                spans = [s for s in self.units(lines)
                         if not lines[s[0]].strip().startswith("}")]
                if self.ddmin(off, spans):
                    changed = True
                    break

    def ddmin(self, off, spans):
        """Removes subsets of `spans` (of the block at `off`), ddmin style;
        True when something was removed."""
        n = 2
        removed_any = False
        while len(spans) >= 1 and self.tests < self.budget:
            chunk = max(1, len(spans) // n)
            progress = False
            for i in range(0, len(spans), chunk):
                drop = spans[i: i + chunk]
                head, body, tail = self.split(self.text)
                kill = set()
                for a, b in drop:
                    kill.update(range(off + a, off + b))
                new_body = [l for k, l in enumerate(body) if k not in kill]
                if self.interesting("\n".join(head + new_body + tail)):
                    removed_any = True
                    progress = True
                    # spans after the removed ones shift; recompute
                    return True
            if not progress:
                if chunk == 1:
                    break
                n = min(len(spans), n * 2)
        return removed_any

    def unwrap_blocks(self):
        changed = True
        while changed and self.tests < self.budget:
            changed = False
            head, body, tail = self.split(self.text)
            for off, lines in self.blocks(body):
                for a, b in self.units(lines):
                    if b - a < 2 or not lines[a].rstrip().endswith("{"):
                        continue
                    inner = [l for l in lines[a + 1: b - 1]
                             if not l.strip().startswith("}")]
                    # keep the first branch of an if/else
                    first = []
                    depth = 0
                    for l in lines[a + 1: b - 1]:
                        if depth == 0 and l.strip().startswith("}"):
                            break
                        depth += l.count("{") - l.count("}")
                        first.append(l)
                    for repl in (first, inner):
                        new_body = body[: off + a] + [dedent(l) for l in repl] \
                            + body[off + b:]
                        if self.interesting("\n".join(head + new_body + tail)):
                            changed = True
                            break
                    if changed:
                        break
                if changed:
                    break

    def simplify_expressions(self):
        """Replaces the right-hand side of each assignment by a smaller
        expression inside it: an argument of its outermost call, an operand
        of its outermost binary operator, or a variable it reads (a
        candidate of another type does not compile and is not kept)."""
        i = 0
        while self.tests < self.budget:
            lines = self.text.split("\n")
            if i >= len(lines):
                break
            m = re.match(r"^(\s*\w+(?:: [^=]+)? = )(.+);\s*$", lines[i])
            if m and not lines[i].lstrip().startswith("//"):
                for cand in expression_candidates(m.group(2)):
                    new = lines[:i] + [m.group(1) + cand + ";"] + lines[i + 1:]
                    if self.interesting("\n".join(new)):
                        break
            i += 1

    def drop_annotations(self):
        for m in list(re.finditer(r"^(\s*\w+): [^=]+ = ", self.text, re.M)):
            line_start = m.group(0)
            new_start = m.group(1) + " = "
            if line_start not in self.text:
                continue
            self.interesting(self.text.replace(line_start, new_start, 1))

    def drop_unused_params(self):
        head, body, tail = self.split(self.text)
        body_text = "\n".join(body)
        for m in re.finditer(r"^\s*(\w+): global [^\n]*?,\n", self.text, re.M):
            name = m.group(1)
            if not re.search(rf"\b{name}\b", body_text):
                self.interesting(self.text.replace(m.group(0), "", 1))
        head_m = re.search(r"kernel \w+<([^>]*)>", self.text)
        if head_m:
            for name, value in re.findall(r"(\w+) = (\d+)", head_m.group(1)):
                rest = self.text.replace(head_m.group(0), "")
                if not re.search(rf"\b{name}\b", rest):
                    params = head_m.group(1)
                    new_params = re.sub(rf"(, )?\b{name} = \d+", "", params,
                                        count=1).lstrip(", ")
                    self.interesting(self.text.replace(
                        head_m.group(0),
                        head_m.group(0).replace(params, new_params), 1))
                    head_m = re.search(r"kernel \w+<([^>]*)>", self.text)


ALL = "all"


def defined(text):
    """False when the program reads a shared tensor that nothing writes
    before (its contents are undefined on a device, zeros in the
    interpreter: a difference that is no bug; a TMA copy's box counts as
    written once a `wait_barrier` on its barrier follows), or drops a
    `sync()` the generator put between a write of a shared tensor and a read
    of it, or between a read and the next write: without it threads race
    (the race check then stops the reduced program for that, not for the
    bug), so the reduction would no longer be a valid program. In a thread group,
    `sync()` orders that group's threads only; a tile handed from one group
    to another is ordered by the first's `arrive` and the second's
    `wait_barrier` on the same barrier."""
    # tensor -> (the group that wrote it last, None for the whole block;
    # the groups its write is ordered before, or ALL)
    writes = {}
    # tensor -> the groups whose reads no sync() has ordered yet
    reads = {}
    tma_pending, released = {}, {}
    group, groups = None, 0

    def order_for(name, reader):
        writer, seen = writes[name]
        writes[name] = (writer, ALL if reader is None or seen == ALL
                        else seen | {reader})

    for line in text.split("\n"):
        if re.match(r"\s*thread_group\(", line):
            group, groups = groups, groups + 1
        if re.search(r"\bsync\(\)", line):
            for name, (writer, _) in list(writes.items()):
                if group is None or writer == group:
                    order_for(name, group)
            for name in list(reads):
                reads[name] = set() if group is None else \
                    reads[name] - {group}
        targets = []
        m = re.search(r"store_shared\((\w+)", line)
        if m:
            targets.append(m.group(1))
        m = re.search(r"copy_async\(.*,\s*(\w+)\);", line)
        if m:
            targets.append(m.group(1))
        m = re.search(r"copy_tma\(.*,\s*(\w+),\s*(\w+)\);", line)
        if m:
            targets.append(m.group(1))
            tma_pending.setdefault(m.group(2), set()).add(m.group(1))
        if re.match(r"\s*arrive\(", line):
            # this group's writes so far are released to the barrier's
            # waiters
            bar = re.match(r"\s*arrive\((\w+)\)", line).group(1)
            released.setdefault(bar, set()).update(
                n for n, (w, _) in writes.items() if w == group)
        m = re.match(r"\s*wait_barrier\((\w+),", line)
        if m:
            # the boxes copied onto this barrier have landed, and what its
            # arrivals released is visible, for the threads that waited
            for name in tma_pending.pop(m.group(1), set()) | \
                    released.pop(m.group(1), set()):
                if name in writes:
                    order_for(name, group)
        for name in targets:
            if reads.get(name):
                return False
            writes[name] = (group, set())
        m = re.search(r"load_shared\((\w+)", line)
        if m:
            name = m.group(1)
            if name not in writes:
                return False
            seen = writes[name][1]
            if seen != ALL and (group is None or group not in seen):
                return False
            reads.setdefault(name, set()).add(group)
    return True


def split_top(text, seps):
    """`text` split at the separators outside brackets and strings."""
    parts, depth, cur, i = [], 0, "", 0
    while i < len(text):
        c = text[i]
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        if depth == 0:
            sep = next((s for s in seps if text.startswith(s, i)), None)
            if sep:
                parts.append(cur.strip())
                cur, i = "", i + len(sep)
                continue
        cur += c
        i += 1
    parts.append(cur.strip())
    return parts


def expression_candidates(rhs):
    """Smaller expressions inside `rhs`, shortest first."""
    out = []
    m = re.match(r"^(\w+)\((.*)\)$", rhs)
    if m:
        out += [a for a in split_top(m.group(2), [","])
                if a and not a.startswith("[") and not re.fullmatch(
                    r"[uif]\d+|bf16|f8e\dm\d|bool", a)]
    for ops in ([" || "], [" && "], [" == ", " != ", " < ", " > ", " <= ",
                                      " >= "],
                [" | "], [" ^ "], [" & "], [" << ", " >> "], [" + ", " - "],
                [" * ", " / ", " % "]):
        parts = split_top(rhs, ops)
        if len(parts) > 1:
            out += parts
            break
    out += re.findall(r"\b(?:v|acc|c|t|x|y|s)\d*\b", rhs)
    seen, result = set(), []
    for c in sorted(out, key=len):
        if c and c != rhs and c not in seen and not re.fullmatch(r"[-\d.]+",
                                                                 c):
            seen.add(c)
            result.append(c)
    return result


def dedent(line):
    return line[2:] if line.startswith("    ") else line


def candidates(v):
    out = [1, 2]
    x = v // 2
    while x > 2:
        out.append(x)
        x //= 2
    out += [v - 1]
    return sorted(set(c for c in out if 0 < c < v))
