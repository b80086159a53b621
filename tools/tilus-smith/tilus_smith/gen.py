"""Random valid tile-language kernels from a seed.

A generated kernel is a well-typed program whose result is fully determined
by its inputs, so the emulator and the reference interpreter must agree on
every element of every buffer:

* Sizes are compile-time parameters (`D0`, `D1`, ... and the grid `G`) so
  that the reducer can shrink them with `-D` without editing statements.
* Inputs are `[m, n]`-shaped (or `[n]`) global tensors with `m` and `n`
  chosen so that tiles run past their edges; loads start at offsets that
  may be negative or past the end (masked to 0).
* Each output tensor is written by exactly one `store_global`, at rows
  owned by one block (and one loop iteration inside a loop), so no two
  threads ever write different values to one element.
* Integer arithmetic is defined everywhere (wrapping, division by zero,
  shift counts, docs/interpreter.md) so integers are unrestricted.
  Floats are *exact* (correctly rounded on both sides) unless they pass
  through a special function, a float sum or a dot; such *inexact* values
  never reach a comparison, a rounding function, a cast to an integer or a
  narrower float, or a `view`, and their inputs are kept in ranges where the
  approximations are good. Their magnitude and error are tracked so the
  driver can ask for a check tolerance when the default is too tight.
* Shared memory: every write is followed by `sync()` before it is read and
  every read by `sync()` before the next write (race check stays clean).
"""

import math
import random

FLOATS = ["f32", "f16", "bf16"]
INTS = ["i32", "i16", "i8", "u8", "u16", "u32", "i64"]
ARITH = FLOATS + INTS
# Types that are only loaded, stored, cast and viewed.
STORAGE = ["u4", "i4", "u2", "i3", "u1", "u6", "f8e4m3", "f8e5m2", "f4e2m1",
           "f6e3m2", "f6e2m3", "f5e2m2", "i7"]
WIDTH = {"f32": 32, "f16": 16, "bf16": 16, "i32": 32, "i16": 16, "i8": 8,
         "u8": 8, "u16": 16, "u32": 32, "i64": 64, "bool": 8}
for _t in STORAGE:
    WIDTH[_t] = (int(_t[1:].split("e")[0]) if _t[0] == "f" else int(_t[1:]))

# Bugs with a reproducer under test/lit/e2e/smith that the generator steers
# clear of, so that runs find new ones (empty it to hunt them again).
KNOWN_BUGS = set()

EPS = {"f32": 2.0 ** -24, "f16": 2.0 ** -11, "bf16": 2.0 ** -8}


def is_float(t):
    return t.startswith("f") or t == "bf16"


def is_int(t):
    return t in INTS


def int_range(t):
    bits = WIDTH[t]
    if t.startswith("u"):
        return 0, (1 << bits) - 1
    return -(1 << (bits - 1)), (1 << (bits - 1)) - 1


class Dim:
    """One extent: its text in the program and its value."""

    def __init__(self, text, value):
        self.text = text
        self.value = value

    def __eq__(self, other):
        return isinstance(other, Dim) and self.text == other.text

    def __hash__(self):
        return hash(self.text)

    def __repr__(self):
        return self.text


ONE = Dim("1", 1)


class Val:
    """A tile or scalar variable in scope."""

    def __init__(self, name, dtype, shape, inexact=False, scale=1.0,
                 err=0.0, terminal=False, scalar=False):
        self.name = name
        self.dtype = dtype
        self.shape = tuple(shape)
        self.inexact = inexact      # passed through approx / sum / dot
        self.scale = scale          # typical magnitude (floats)
        self.err = err              # estimated absolute error (inexact)
        self.terminal = terminal    # inexact and narrowed: store only
        self.scalar = scalar
        self.nonan = False          # a float known not to be NaN

    def numel(self):
        return math.prod(d.value for d in self.shape)


def shape_text(shape):
    return "[" + ", ".join(d.text for d in shape) + "]"


class Program:
    """A generated kernel: its text, the --shape values and its tolerance."""

    def __init__(self, text, shapes, tolerance, features):
        self.text = text
        self.shapes = shapes
        self.tolerance = tolerance
        self.features = features


class Generator:
    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.seed = seed
        self.counter = 0
        self.dims = []          # Dim params, in order
        self.inputs = []        # (name, dtype, extents text)
        self.outputs = []
        self.shared_decls = []  # statements allocating shared tensors
        self.features = set()
        self.warps = self.rng.choice([1, 1, 2, 4, 4, 4, 8])
        self.threads = 32 * self.warps
        # Some programs run in a thread group of `warps` warps (the body is
        # generated as a kernel of that many warps would be) inside a larger
        # block. Drawn from a generator of its own, so that every other
        # program of a seed stays as it was.
        self.group = None
        self.block_threads = self.threads
        side = random.Random(seed * 7919 + 17)
        # Later draws that must leave the main generator's sequence as it was.
        self.side = random.Random(seed * 7919 + 29)
        if side.random() < 0.12:
            block = self.warps * side.choice([1, 2, 4]) + \
                side.choice([0, 0, 1, 3])
            block = min(block, 16)
            # wgmma and dot_async need whole warpgroups.
            step = 4 if self.warps >= 4 else 1
            first = side.choice(range(0, block - self.warps + 1, step))
            self.group = (first, self.warps)
            self.block_threads = 32 * block
            self.features.add("thread-group")
        # Half of those run two groups side by side: the first hands a tile
        # to the second through shared memory and an mbarrier (sm_90a).
        self.pair = None
        if self.group and side.random() < 0.5:
            second = side.choice([1, 2, 4])
            first = self.warps if second < 4 else -(-self.warps // 4) * 4
            if first + second <= 16:
                self.group = (0, self.warps)
                self.pair = (first, second)
                self.block_threads = 32 * (first + second)
                self.features.add("thread-group-pair")
        self.grid = self.rng.choice([1, 1, 2, 3])
        self.m = self.rng.randint(1, 80)
        self.n = self.rng.randint(1, 160)
        self.n_div = None
        # Programs with TMA copies (sm_90 and sm_90a only): rows of the
        # global tensors start 16-byte aligned, so n is a multiple of 16.
        self.tma = self.rng.random() < 0.12
        if self.tma:
            self.n_div = 16
            self.n = max(16, self.n - self.n % 16)
        elif self.rng.random() < 0.15:
            self.n_div = self.rng.choice([2, 4, 8])
            self.n = max(self.n_div, self.n - self.n % self.n_div)
        self.max_err = 0.0
        self.narrow_inexact_out = []
        self.uses_tanh = False
        self.loop_depth = 0
        self.in_while = 0
        self.in_branch = 0
        self.iter_dims = []     # (loop var, trip count) of enclosing loops

    # ---- names and sizes ------------------------------------------------
    def fresh(self, prefix="v"):
        self.counter += 1
        return f"{prefix}{self.counter}"

    def new_dim(self, value=None, pow2=None):
        r = self.rng
        if value is None:
            if pow2 is None:
                pow2 = r.random() < 0.75
            if pow2:
                value = r.choice([1, 2, 4, 8, 8, 16, 16, 32, 32, 64, 64, 128])
            else:
                value = r.choice([3, 5, 6, 10, 12, 20, 24, 40, 48, 96])
        for d in self.dims:
            if d.value == value and r.random() < 0.7:
                return d
        d = Dim(f"D{len(self.dims)}", value)
        self.dims.append(d)
        return d

    def dim_for(self, value):
        for d in self.dims:
            if d.value == value:
                return d
        d = Dim(f"D{len(self.dims)}", value)
        self.dims.append(d)
        return d

    def new_shape(self, rank=None, budget=2048):
        r = self.rng
        if rank is None:
            rank = r.choice([1, 2, 2, 2, 2, 2, 2, 3])
        for _ in range(20):
            shape = tuple(self.new_dim() for _ in range(rank))
            n = math.prod(d.value for d in shape)
            if 1 < n <= budget:
                return shape
        return tuple(self.dim_for(8) for _ in range(rank))

    # ---- literals ---------------------------------------------------------
    def literal(self, dtype, small=False):
        r = self.rng
        if is_float(dtype):
            v = r.choice([0.5, 1.0, 2.0, 0.25, 3.0, 1.5, 0.125, 0.75])
            if r.random() < 0.3:
                v = -v
            return repr(v)
        lo, hi = int_range(dtype)
        if small or r.random() < 0.7:
            v = r.randint(max(lo, -9), min(hi, 9))
        else:
            v = r.randint(lo, hi)
        return str(v)

    # ---- layouts ------------------------------------------------------------
    def register_layout(self, shape, dtype="f32"):
        """A layout text for `shape` over the block's threads."""
        # Casts keep the layout, so the budget is that of the widest type
        # (8 bytes) the tile may become: 1024 bytes per thread.
        for attempt in range(5):
            text, per_thread = self.try_register_layout(shape,
                                                        greedy=attempt == 4)
            if per_thread <= 96:
                break
        return text

    def try_register_layout(self, shape, greedy=False):
        r = self.rng
        threads = self.threads
        factors = []
        for d in shape:
            p = d.value & -d.value   # the power-of-two factor
            factors.append(p)
        spatial = [1] * len(shape)
        left = threads
        order = list(range(len(shape)))[::-1]
        if r.random() < 0.3:
            r.shuffle(order)
        for i in order:
            s = 1
            while s * 2 <= factors[i] and s * 2 <= left and \
                    (greedy or r.random() < 0.9):
                s *= 2
            spatial[i] = s
            left //= s
        rep = left
        col = r.random() < 0.2
        loc_inner = [1] * len(shape)
        for i, d in enumerate(shape):
            rest = d.value // spatial[i]
            if rest % 2 == 0 and r.random() < 0.4:
                loc_inner[i] = 2 if rest % 4 or r.random() < 0.5 else 4
        outer = []
        for i, d in enumerate(shape):
            div = spatial[i] * loc_inner[i]
            outer.append(d.text if div == 1 else f"{d.text} / {div}")
        sp = ("column_spatial" if col else "spatial") + \
            "(" + ", ".join(map(str, spatial)) + ")"
        lo = ("column_local" if r.random() < 0.2 else "local") + \
            "(" + ", ".join(outer) + ")"
        parts = []
        form = r.random()
        if form < 0.4:
            parts = [sp, lo]
        else:
            parts = [lo, sp]
        if any(v != 1 for v in loc_inner):
            parts.append("local(" + ", ".join(map(str, loc_inner)) + ")")
        if rep > 1:
            if r.random() < 0.5:
                parts.append(f"replicate({rep})")
            else:
                parts.insert(0, f"replicate({rep})")
        self.features.add("layout-annotation")
        if rep > 1:
            self.features.add("layout-replicate")
        return ".".join(parts), math.prod(d.value for d in shape) // \
            math.prod(spatial)

    def shared_layout(self, dtype, shape):
        r = self.rng
        dims = ", ".join(d.text for d in shape)
        if len(shape) != 2 or r.random() < 0.3:
            return None
        rows, cols = shape[0].value, shape[1].value
        ebytes = max(1, WIDTH[dtype] // 8)
        if r.random() < 0.25 and cols & (cols - 1) == 0:
            self.features.add("shared-column-major")
            return f"shared({dims}).column_major()"
        if r.random() < 0.2:
            pad = r.choice([1, 2, 4, 8])
            self.features.add("shared-padded")
            return f"shared({dims}).strides({shape[1].text} + {pad}, 1)"
        # A swizzle over 16-byte chunks (CuTe Swizzle<B, M, S> on elements):
        # the row index (above the row's chunks) XORs the chunk index.
        row_bytes = cols * ebytes
        if ebytes * 8 != WIDTH[dtype] or row_bytes & (row_bytes - 1) or \
                rows & (rows - 1) or row_bytes < 32:
            return f"shared({dims}).row_major()"
        base = {1: 4, 2: 3, 4: 2, 8: 1}[ebytes]
        chunks = row_bytes // 16
        shift = max(3, int(math.log2(chunks)))
        bits = min(3, int(math.log2(chunks)), int(math.log2(max(rows, 1))))
        if bits <= 0:
            return f"shared({dims}).row_major()"
        bits = r.randint(1, bits)
        self.features.add("shared-swizzle")
        return f"shared({dims}).row_major().swizzle({bits}, {base}, {shift})"

    # ---- inputs and outputs --------------------------------------------------
    def input_tensor(self, dtype, rank):
        for name, t, rk in self.inputs:
            if t == dtype and rk == rank and self.rng.random() < 0.5:
                return name
        name = f"in{len(self.inputs)}"
        self.inputs.append((name, dtype, rank))
        return name

    def row_offset(self, d0):
        r = self.rng
        base = f"blockIdx.x * {d0.text}" if self.grid > 1 or r.random() < 0.5 \
            else "0"
        k = r.choice([0, 0, 0, 0, 1, -1, -3, 5, 7])
        if self.iter_dims and r.random() < 0.5:
            var, _ = self.iter_dims[-1]
            base += f" + {var}"
            self.features.add("loop-var-offset")
        if k:
            self.features.add("edge-offset")
        return base + (f" + {k}" if k > 0 else f" - {-k}" if k < 0 else "")

    def load_global(self, dtype, shape, lines):
        r = self.rng
        rank = len(shape)
        t = self.input_tensor(dtype, rank)
        offs = [self.row_offset(shape[0])]
        for _ in shape[1:]:
            offs.append(str(r.choice([0, 0, 0, 1, 3, -2])))
        name = self.fresh()
        ann = ""
        if r.random() < 0.15:
            lay = self.register_layout(shape, dtype)
            ann = f": {lay}"
        lines.append(f"{name}{ann} = load_global({t}, [{', '.join(offs)}], "
                     f"{shape_text(shape)});")
        self.features.add(f"load_global-{dtype}")
        scale = 1.0 if is_float(dtype) else float(2 ** (WIDTH[dtype] - 1))
        v = Val(name, dtype, shape, scale=scale)
        v.nonan = True
        return v

    def output_store(self, v, lines):
        """Stores `v` into a fresh output tensor, rows owned by one block
        (and by one iteration of each enclosing loop)."""
        r = self.rng
        name = f"out{len(self.outputs)}"
        dtype = v.dtype
        shape = v.shape
        rows = shape[0].text if shape else "1"
        mult = [f"G"]
        count = self.grid * (shape[0].value if shape else 1)
        row_expr = f"blockIdx.x * {rows}"
        for var, trips in self.iter_dims:
            mult.append(str(trips))
            count *= trips
            row_expr = f"({row_expr}) * {trips} + {var} * {rows}"
        # blocks x iterations x rows, cut short a little to mask the edge
        ext0 = " * ".join(mult + [rows])
        cut = r.choice([0, 0, 1, 2])
        if cut:
            ext0 = f"max(1, {ext0} - {cut})"
            count = max(1, count - cut)
            self.features.add("store-edge-mask")
        exts = [ext0]
        offs = [row_expr if self.iter_dims or self.grid > 1 else "0"]
        for d in shape[1:]:
            c = r.choice([0, 0, 0, 1, -1])
            exts.append(d.text if c == 0 else
                        f"{d.text} + 1" if c > 0 else f"max(1, {d.text} - 1)")
            count *= max(1, d.value + c)
            offs.append("0")
        # A packed tensor of an odd number of bytes ending in a byte that
        # several elements share is stored with an atom.cas.b16 that reads
        # one byte past it (docs/codegen.md), which the emulator's exact
        # bounds reject (test/lit/e2e/smith/subbyte-store-odd-end.tl): keep the
        # byte count even.
        if WIDTH[dtype] < 8:
            rows0 = count
            rest = 1
            for d, e in zip(shape[1:], exts[1:]):
                rest *= max(1, d.value + (1 if e.endswith("+ 1") else
                                          -1 if e.endswith("- 1)") else 0))
            rows0 //= rest
            pad = 0
            while -(-(rows0 + pad) * rest * WIDTH[dtype] // 8) % 2:
                pad += 1
            if pad:
                exts[0] = f"{exts[0]} + {pad}"
        self.outputs.append((name, dtype, exts))
        lines.append(f"store_global({name}, {v.name}, [{', '.join(offs)}]);")
        if v.inexact:
            self.max_err = max(self.max_err, v.err)
            if dtype != "f32":
                self.narrow_inexact_out.append(dtype)
        self.features.add(f"store_global-{dtype}")

    # ---- choosing values ----------------------------------------------------------
    def pick(self, scope, pred):
        cands = [v for v in scope if not v.scalar and not v.terminal and pred(v)]
        if not cands:
            return None
        # Prefer recent values so that programs form chains.
        w = [1 + i for i in range(len(cands))]
        return self.rng.choices(cands, weights=w)[0]

    def value_of(self, scope, dtype, shape, lines, allow_inexact=True,
                 avoid=None):
        """A value of exactly `dtype` and `shape`: an existing one (not
        `avoid`), a cast of one, or a fresh load/constant."""
        r = self.rng
        v = self.pick(scope, lambda v: v.dtype == dtype and v.shape == shape
                      and (allow_inexact or not v.inexact) and v is not avoid)
        if v and r.random() < 0.75:
            return v
        src = self.pick(scope, lambda v: v.shape == shape and
                        v.dtype in ARITH and not v.inexact)
        if src and r.random() < 0.3:
            return self.cast_to(src, dtype, lines)
        x = r.random()
        if x < 0.8:
            return self.load_global(dtype, shape, lines)
        name = self.fresh()
        if x < 0.9 or not is_int(dtype) and dtype not in FLOATS:
            lit = self.literal(dtype)
            lines.append(f"{name} = full({dtype}, {shape_text(shape)}, {lit});")
            self.features.add("full")
            return Val(name, dtype, shape, scale=abs(float(lit)) + 1)
        dim = r.randrange(len(shape))
        a = f"arange({shape_text(shape)}, {dim})" if len(shape) > 1 or \
            r.random() < 0.5 else f"arange({shape[0].text})"
        self.features.add("arange")
        if dtype == "i32":
            lines.append(f"{name} = {a};")
        else:
            lines.append(f"{name} = cast({a}, {dtype});")
        return Val(name, dtype, shape, scale=float(shape[dim].value))

    def cast_to(self, v, dtype, lines):
        name = self.fresh()
        lines.append(f"{name} = cast({v.name}, {dtype});")
        self.features.add(f"cast-{v.dtype}-{dtype}")
        out = Val(name, dtype, v.shape, inexact=v.inexact, scale=v.scale,
                  err=v.err)
        if v.inexact:
            if is_float(dtype) and WIDTH[dtype] < WIDTH[v.dtype] or \
                    dtype in ("f16", "bf16"):
                out.terminal = True
        if is_int(dtype):
            out.scale = float(2 ** (WIDTH[dtype] - 1))
        out.nonan = not is_float(v.dtype) or v.nonan
        return out

    # ---- statements ------------------------------------------------------------------
    def stmt(self, scope, lines):
        """Appends one statement group; returns the new values."""
        r = self.rng
        ops = [
            (self.s_binary, 10), (self.s_unary, 4), (self.s_cmp_where, 4),
            (self.s_cast, 5), (self.s_reduce, 3), (self.s_dot, 2.5),
            (self.s_transpose, 1.5), (self.s_slice, 1.5),
            (self.s_reshape, 1.5), (self.s_rank_broadcast, 1),
            (self.s_broadcast, 2), (self.s_view, 2), (self.s_shared, 2),
            (self.s_copy_async, 1.5), (self.s_storage_roundtrip, 2),
            (self.s_annotate, 1.5), (self.s_load, 2),
        ]
        if self.loop_depth < 2:
            ops += [(self.s_for, 2.5), (self.s_while, 1),
                    (self.s_matmul_loop, 0.7)]
        ops += [(self.s_if, 2)]
        if self.loop_depth == 0 and self.in_branch == 0:
            # Two groups' atomic adds on one counter would see each other in
            # an order the program does not fix.
            if not self.pair:
                ops += [(self.s_atomic, 0.3)]
            ops += [(self.s_print, 0.2)]
            if self.tma:
                ops += [(self.s_tma, 4)]
        fns, ws = zip(*ops)
        for _ in range(10):
            fn = r.choices(fns, weights=ws)[0]
            new = fn(scope, lines)
            if new is not None:
                return new
        return []

    def s_load(self, scope, lines):
        dtype = self.rng.choice(ARITH)
        return [self.load_global(dtype, self.new_shape(), lines)]

    def s_annotate(self, scope, lines):
        v = self.pick(scope, lambda v: True)
        if v is None:
            return None
        lay = self.register_layout(v.shape, v.dtype)
        name = self.fresh()
        lines.append(f"{name}: {lay} = {v.name};")
        out = Val(name, v.dtype, v.shape, v.inexact, v.scale, v.err)
        self.features.add("convert_layout")
        return [out]

    def s_binary(self, scope, lines):
        r = self.rng
        a = self.pick(scope, lambda v: v.dtype in ARITH)
        if a is None:
            a = self.load_global(r.choice(ARITH), self.new_shape(), lines)
        t = a.dtype
        ops = ["+", "-", "*", "min", "max"]
        if not a.inexact:
            ops += ["/", "%"]
        if is_int(t):
            ops += ["/", "%", "&", "|", "^", "<<", ">>"]
        op = r.choice(ops)
        # the other operand: same shape, a broadcastable shape, or a literal
        x = r.random()
        scalar = self.scalar_operand(t) if op in ("+", "-", "*", "min",
                                                  "max") else None
        if scalar is not None and x < 0.15:
            b = scalar
        elif x < 0.3 and op not in ("<<", ">>") or x < 0.05:
            b_text = self.literal(t, small=op in ("<<", ">>"))
            if op in ("/", "%") and b_text.lstrip("-") in ("0", "0.0"):
                b_text = "3"
            b = Val(b_text, t, (), scale=abs(float(b_text)))
        else:
            b = self.value_of(scope, t, a.shape, lines,
                              allow_inexact=op in ("+", "-", "*", "min", "max"),
                              avoid=a)
        if a.inexact or b.inexact:
            if b.inexact and op in ("/", "%"):
                return None
            if op == "*" and (a.scale > 64 or b.scale > 64):
                return None
            if op in ("+", "-") and (a.scale > 4096 or b.scale > 4096):
                return None
            if not a.inexact and a.scale > 4096 or \
                    not b.inexact and b.scale > 4096:
                return None
        if is_float(t) and op == "/" and r.random() < 0.5 and not b.scalar \
                and b.shape:
            b_expr = f"(abs({b.name}) + 1.0)"
        else:
            b_expr = b.name
        name = self.fresh()
        if op in ("min", "max"):
            expr = f"{op}({a.name}, {b_expr})"
        else:
            expr = f"{a.name} {op} {b_expr}"
        lines.append(f"{name} = {expr};")
        self.features.add(f"binary{op}-{t}")
        inexact = a.inexact or b.inexact
        scale = {"+": a.scale + b.scale, "-": a.scale + b.scale,
                 "*": a.scale * b.scale}.get(op, max(a.scale, b.scale))
        err = 0.0
        if inexact:
            eps = EPS.get(t, 0)
            if op in ("+", "-", "min", "max"):
                err = a.err + b.err + eps * scale
            elif op == "*":
                err = a.err * b.scale + b.err * a.scale + eps * scale
            else:
                err = a.err + eps * scale
        out = Val(name, t, a.shape, inexact, scale, err)
        if inexact and t != "f32":
            out.terminal = True
        return [out]

    def thread_zero(self):
        """threadIdx.x in an expression that is 0 in every thread: the
        compiled kernel reads the thread index, the interpreter's twin of
        the program has 0 for it (run.py)."""
        self.features.add("thread-index")
        return f"(threadIdx.x / {self.block_threads})"

    def scalar_operand(self, t):
        """A run-time scalar of type t (a loop variable, blockIdx.x, n, or
        a float function of one), or None."""
        r = self.rng
        if t not in ("i32", "i64", "i16", "f32", "f16", "bf16"):
            return None
        names = ["blockIdx.x", "n", "m"] + [v for v, _ in self.iter_dims]
        base = r.choice(names)
        if r.random() < 0.08:
            base = self.thread_zero()
        if t == "i32":
            self.features.add("scalar-operand")
            return Val(base, t, (), scale=200.0)
        if t == "f32" and r.random() < 0.5:
            fn = r.choice(["rsqrt", "sqrt", "log2", "exp2"])
            self.features.add(f"scalar_unary-{fn}")
            if fn == "exp2":
                arg = f"cast({base} % 4, f32)"
            else:
                arg = f"cast({base}, f32) + 1.0"
            v = Val(f"{fn}({arg})", t, (), inexact=fn != "sqrt", scale=16.0,
                    err=2.0 ** -20)
            return v
        self.features.add("scalar-cast-operand")
        return Val(f"cast({base} % 8, {t})", t, (), scale=8.0)

    def s_unary(self, scope, lines):
        r = self.rng
        a = self.pick(scope, lambda v: v.dtype in ARITH)
        if a is None:
            return None
        t = a.dtype
        name = self.fresh()
        if is_int(t):
            op = r.choice(["-", "~", "abs"])
            expr = f"abs({a.name})" if op == "abs" else f"{op}{a.name}"
            lines.append(f"{name} = {expr};")
            self.features.add(f"unary{op}-{t}")
            return [Val(name, t, a.shape, scale=a.scale)]
        if t != "f32" and r.random() < 0.7:
            fns = ["-", "abs", "round", "floor", "ceil", "sqrt"]
        else:
            fns = ["-", "abs", "round", "floor", "ceil", "sqrt", "exp",
                   "exp2", "log", "log2", "rsqrt", "tanh", "sin", "cos"]
        fn = r.choice(fns)
        if a.inexact and fn in ("round", "floor", "ceil"):
            fn = "abs"
        arg = a.name
        scale, err, inexact = a.scale, a.err, a.inexact
        if fn in ("exp", "exp2", "sin", "cos"):
            arg = f"min(max({a.name}, -4.0), 4.0)"
            scale = {"exp": 55.0, "exp2": 16.0}.get(fn, 1.0)
            err = (a.err * scale) + 2.0 ** -20 * scale
            inexact = True
        elif fn in ("log", "log2", "rsqrt"):
            arg = f"abs({a.name}) + 1.0"
            scale = 1.0 if fn == "rsqrt" else math.log(a.scale + 1) + 1
            err = a.err * 1.5 + 2.0 ** -20 * scale
            inexact = True
        elif fn == "sqrt":
            arg = f"abs({a.name})" if not a.inexact else f"abs({a.name}) + 1.0"
            scale = math.sqrt(a.scale) + 1
            err = a.err
        elif fn == "tanh":
            scale = 1.0
            err = a.err + 2.0 ** -11
            inexact = True
            self.uses_tanh = True
        if fn == "-":
            expr = f"-{a.name}"
        else:
            expr = f"{fn}({arg})"
        lines.append(f"{name} = {expr};")
        self.features.add(f"unary{fn}-{t}")
        out = Val(name, t, a.shape, inexact, scale, err)
        if inexact and t != "f32":
            out.terminal = True
        return [out]

    def s_cmp_where(self, scope, lines):
        r = self.rng
        a = self.pick(scope, lambda v: v.dtype in ARITH and not v.inexact)
        if a is None:
            return None
        op = r.choice(["==", "!=", "<", "<=", ">", ">="])
        if r.random() < 0.3:
            b = Val(self.literal(a.dtype), a.dtype, ())
        else:
            b = self.value_of(scope, a.dtype, a.shape, lines,
                              allow_inexact=False, avoid=a)
        c = self.fresh("c")
        lines.append(f"{c} = {a.name} {op} {b.name};")
        self.features.add(f"cmp{op}-{a.dtype}")
        if r.random() < 0.3:
            c2 = self.pick(scope, lambda v: v.dtype == "bool" and
                           v.shape == a.shape)
            if c2:
                c3 = self.fresh("c")
                lop = r.choice(["&&", "||"])
                lines.append(f"{c3} = {c}{' ' + lop + ' '}{c2.name};")
                self.features.add(f"logic{lop}")
                c = c3
            elif r.random() < 0.5:
                c3 = self.fresh("c")
                lines.append(f"{c3} = !{c};")
                c = c3
        cv = Val(c, "bool", a.shape)
        # where(c, x, y) of some type
        t = r.choice(ARITH)
        x = self.value_of(scope, t, a.shape, lines)
        if r.random() < 0.3:
            y = Val(self.literal(t), t, ())
        else:
            y = self.value_of(scope, t, a.shape, lines)
        w = self.fresh()
        lines.append(f"{w} = where({c}, {x.name}, {y.name});")
        self.features.add(f"where-{t}")
        inexact = x.inexact or y.inexact
        out = Val(w, t, a.shape, inexact, max(x.scale, y.scale),
                  max(x.err, y.err))
        out.terminal = x.terminal or y.terminal
        if r.random() < 0.2:
            # a bool tile stored as bytes
            return [cv, out]
        return [out]

    def s_cast(self, scope, lines):
        r = self.rng
        a = self.pick(scope, lambda v: True)
        if a is None:
            return None
        if a.inexact:
            t = "f32"
            if a.dtype == "f32":
                return None
        else:
            t = r.choice(ARITH + STORAGE + ["bool"])
            if t == a.dtype:
                return None
        out = self.cast_to(a, t, lines)
        if t in STORAGE or t == "bool":
            # back to an arithmetic type
            back = r.choice(ARITH)
            return [out, self.cast_to(out, back, lines)]
        return [out]

    def s_reduce(self, scope, lines):
        r = self.rng
        a = self.pick(scope, lambda v: v.dtype in ARITH and len(v.shape) >= 1
                      and v.numel() > 1)
        if a is None:
            return None
        kinds = ["sum", "max", "min"]
        if not a.inexact:
            # The index of the largest (smallest) element, the first of
            # equal ones: exact inputs only, so no rounding decides a tie.
            kinds += ["argmax", "argmin"]
        kind = r.choice(kinds)
        dim = r.randrange(len(a.shape))
        keep = len(a.shape) == 1 or r.random() < 0.5
        if len(a.shape) == 1 and not keep:
            return None
        name = self.fresh()
        args = f"{a.name}, {dim}" + (", true" if keep and r.random() < 0.9
                                     else "")
        if keep and not args.endswith("true"):
            keep = False
            if len(a.shape) == 1:
                return None
        if kind == "sum" and is_float(a.dtype) and a.scale > 1024:
            return None
        shape = list(a.shape)
        if keep:
            shape[dim] = ONE
        else:
            del shape[dim]
        k = a.shape[dim].value
        if kind.startswith("arg"):
            lines.append(f"{name} = {kind}({args});")
            self.features.add(f"{kind}-{a.dtype}")
            return [Val(name, "i32", shape, scale=float(k))]
        lines.append(f"{name} = reduce_{kind}({args});")
        self.features.add(f"reduce_{kind}-{a.dtype}")
        inexact, scale, err = a.inexact, a.scale, a.err
        if kind == "sum" and is_float(a.dtype):
            inexact = True
            scale = a.scale * math.sqrt(k) + a.scale
            err = a.err * k + EPS[a.dtype] * scale * math.sqrt(k) * 4
        out = Val(name, a.dtype, shape, inexact, scale, err)
        if inexact and a.dtype != "f32":
            out.terminal = True
        return [out]

    def s_broadcast(self, scope, lines):
        """[M, 1] op [M, N] (or [1, N]): a rank-2 value with an extent of 1."""
        r = self.rng
        a = self.pick(scope, lambda v: len(v.shape) == 2 and ONE in v.shape
                      and v.dtype in ARITH)
        if a is None:
            return None
        full = tuple(self.new_dim() if d == ONE else d for d in a.shape)
        if math.prod(d.value for d in full) > 2048:
            return None
        b = self.value_of(scope, a.dtype, full, lines,
                          allow_inexact=a.dtype == "f32")
        if (a.inexact or b.inexact) and (a.scale > 64 or b.scale > 64 or
                                         a.dtype != "f32"):
            return None
        name = self.fresh()
        op = r.choice(["+", "*", "-"])
        first, second = (a, b) if r.random() < 0.5 else (b, a)
        lines.append(f"{name} = {first.name} {op} {second.name};")
        self.features.add("broadcast")
        inexact = a.inexact or b.inexact
        scale = a.scale * b.scale if op == "*" else a.scale + b.scale
        err = (a.err * b.scale + b.err * a.scale if op == "*" else
               a.err + b.err) + EPS.get(a.dtype, 0) * scale
        return [Val(name, a.dtype, full, inexact, scale, err)]

    def s_transpose(self, scope, lines):
        a = self.pick(scope, lambda v: len(v.shape) == 2)
        if a is None:
            return None
        name = self.fresh()
        lines.append(f"{name} = transpose({a.name});")
        self.features.add("transpose")
        out = Val(name, a.dtype, a.shape[::-1], a.inexact, a.scale, a.err,
                  a.terminal)
        out.nonan = a.nonan
        return [out]

    def s_reshape(self, scope, lines):
        """expand_dims, squeeze, or a rank-2 tile flattened with reshape (the
        same elements, row-major: exact on both sides)."""
        r = self.rng
        a = self.pick(scope, lambda v: 1 <= len(v.shape) <= 3)
        if a is None:
            return None
        shape = list(a.shape)
        ones = [i for i, d in enumerate(shape) if d.value == 1]
        kinds = ["expand_dims"] if len(shape) < 3 else []
        if ones and len(shape) > 1:
            kinds.append("squeeze")
        if len(shape) == 2:
            kinds.append("reshape")
        if not kinds:
            return None
        kind = r.choice(kinds)
        name = self.fresh()
        if kind == "expand_dims":
            axis = r.randint(0, len(shape))
            shape.insert(axis, ONE)
            lines.append(f"{name} = expand_dims({a.name}, {axis});")
        elif kind == "squeeze":
            axis = r.choice(ones)
            del shape[axis]
            lines.append(f"{name} = squeeze({a.name}, {axis});")
        else:
            x, y = shape
            flat = (Dim(f"({x.text} * {y.text})", x.value * y.value)
                    if x.value > 1 and y.value > 1 else
                    (y if x.value == 1 else x))
            shape = [flat]
            lines.append(f"{name} = reshape({a.name}, {shape_text(shape)});")
        self.features.add(kind)
        out = Val(name, a.dtype, shape, a.inexact, a.scale, a.err, a.terminal)
        out.nonan = a.nonan
        return [out]

    def s_rank_broadcast(self, scope, lines):
        """[M, N] op [N] (broadcasting between ranks): the row of a tile's
        column maxima, combined with the tile."""
        r = self.rng
        a = self.pick(scope, lambda v: v.dtype in ARITH and len(v.shape) == 2
                      and v.shape[0].value > 1)
        if a is None:
            return None
        op = r.choice(["+", "-", "max"])
        row = f"reduce_max({a.name}, 0)"
        name = self.fresh()
        if op == "max":
            text = f"max({row}, {a.name})" if r.random() < 0.5 else \
                f"max({a.name}, {row})"
        else:
            text = (f"{a.name} {op} {row}" if r.random() < 0.5 else
                    f"{row} {op} {a.name}")
        lines.append(f"{name} = {text};")
        self.features.add("rank-broadcast")
        scale = a.scale if op == "max" else 2 * a.scale
        err = 2 * a.err + (EPS.get(a.dtype, 0) * scale if op != "max" else 0)
        out = Val(name, a.dtype, a.shape, a.inexact, scale, err)
        if is_int(a.dtype):
            out.scale = float(2 ** (WIDTH[a.dtype] - 1))
        if out.inexact and a.dtype != "f32":
            out.terminal = True
        return [out]

    def s_slice(self, scope, lines):
        r = self.rng
        a = self.pick(scope, lambda v: len(v.shape) >= 1 and
                      any(d.value > 1 for d in v.shape))
        if a is None:
            return None
        offs, shape = [], []
        for d in a.shape:
            if d.value == 1:
                offs.append("0")
                shape.append(d)
                continue
            sub = [x for x in self.dims if x.value < d.value] + [d]
            s = r.choice(sub)
            o = r.randint(0, d.value - s.value)
            if o and r.random() < 0.5:
                o = 0
            offs.append(str(o))
            shape.append(s)
        name = self.fresh()
        lines.append(f"{name} = slice({a.name}, [{', '.join(offs)}], "
                     f"{shape_text(shape)});")
        self.features.add("slice")
        out = Val(name, a.dtype, shape, a.inexact, a.scale, a.err, a.terminal)
        out.nonan = a.nonan
        return [out]

    def s_view(self, scope, lines):
        r = self.rng
        same = {32: ["f32", "i32", "u32"], 16: ["f16", "bf16", "i16", "u16"],
                8: ["i8", "u8"]}
        # A NaN's payload is not fixed (PTX makes it canonical, the host
        # keeps it), so floats whose bits are read are known not to be NaN.
        a = self.pick(scope, lambda v: not v.inexact and
                      (v.dtype in ARITH or v.dtype in STORAGE) and
                      (not is_float(v.dtype) or v.nonan))
        if a is None:
            return None
        w = WIDTH[a.dtype]
        if w in same and r.random() < 0.5:
            t = r.choice([x for x in same[w] if x != a.dtype] or same[w])
            if t == a.dtype:
                return None
            name = self.fresh()
            lines.append(f"{name} = view({a.name}, {t});")
            self.features.add(f"view-{a.dtype}-{t}")
            return [Val(name, t, a.shape, scale=2.0 ** 30 if is_int(t) else
                        float("inf"))]
        # A width-changing view of a 1-d tile whose threads hold contiguous
        # runs: spatial(T).local(k) viewed as spatial(T).local(k * w / w').
        if len(a.shape) != 1:
            return None
        n = a.shape[0].value
        T = self.threads
        if n % T:
            return None
        k = n // T
        t = r.choice(ARITH + STORAGE)
        bits = k * w
        if bits % WIDTH[t] or t == a.dtype:
            return None
        k2 = bits // WIDTH[t]
        d = a.shape[0]
        src = self.fresh()
        lines.append(f"{src}: spatial({T}).local({d.text} / {T}) = {a.name};")
        name = self.fresh()
        newlen = n * w // WIDTH[t]
        nd = self.dim_for(newlen)
        lines.append(f"{name}: spatial({T}).local({nd.text} / {T}) = "
                     f"view({src}, {t}, [{nd.text}]);")
        self.features.add(f"view-resize-{a.dtype}-{t}")
        out = Val(name, t, (nd,), scale=float("inf"))
        if t in STORAGE:
            return [out, self.cast_to(out, r.choice(ARITH), lines)]
        return [out]

    def s_storage_roundtrip(self, scope, lines):
        """A sub-byte input loaded and cast to an arithmetic type (masked
        edges and packed bits), or an arithmetic value cast to one."""
        r = self.rng
        t = r.choice(STORAGE)
        shape = self.new_shape()
        v = self.load_global(t, shape, lines)
        return [v, self.cast_to(v, r.choice(ARITH), lines)]

    def s_shared(self, scope, lines, inline=None):
        """store_shared, sync, load_shared of a window, sync; `inline`:
        whether the tensor is allocated in place and freed (else drawn)."""
        r = self.rng
        # shared tensors hold whole-byte elements
        a = self.pick(scope, lambda v: len(v.shape) in (1, 2) and
                      WIDTH[v.dtype] >= 8)
        if a is None:
            return None
        s = self.fresh("s")
        lay = self.shared_layout(a.dtype, a.shape)
        ann = f": {lay}" if lay else ""
        decl = f"{s}{ann} = alloc_shared({a.dtype}, {shape_text(a.shape)});"
        # Outside loops and branches the tensor lives only here, so that the
        # planner can reuse its bytes for later tensors.
        if inline is None:
            inline = self.loop_depth == 0 and self.in_branch == 0 and \
                r.random() < 0.5
        if inline:
            lines.append(decl)
        else:
            self.shared_decls.append(decl)
        lines.append("sync();")
        lines.append(f"store_shared({s}, {a.name}, "
                     f"[{', '.join('0' for _ in a.shape)}]);")
        lines.append("sync();")
        offs, shape = [], []
        for d in a.shape:
            sub = [x for x in self.dims if x.value <= d.value]
            e = r.choice(sub) if sub and r.random() < 0.4 else d
            o = r.randint(0, d.value - e.value)
            offs.append(str(o))
            shape.append(e)
        name = self.fresh()
        ann = ""
        if r.random() < 0.3:
            ann = f": {self.register_layout(shape, a.dtype)}"
        lines.append(f"{name}{ann} = load_shared({s}, [{', '.join(offs)}], "
                     f"{shape_text(shape)});")
        lines.append("sync();")
        if inline:
            lines.append(f"free_shared({s});")
            self.features.add("free_shared")
        self.features.add("shared")
        out = Val(name, a.dtype, shape, a.inexact, a.scale, a.err, a.terminal)
        out.nonan = a.nonan
        return [out]

    def s_copy_async(self, scope, lines):
        r = self.rng
        # cp.async copies whole bytes
        t = r.choice(ARITH + ["f8e4m3", "f8e5m2"])
        shape = self.new_shape(rank=r.choice([1, 2, 2]))
        s = self.fresh("s")
        lay = self.shared_layout(t, shape)
        ann = f": {lay}" if lay else ""
        self.shared_decls.append(
            f"{s}{ann} = alloc_shared({t}, {shape_text(shape)});")
        g = self.input_tensor(t, len(shape))
        offs = [self.row_offset(shape[0])] + \
            [str(r.choice([0, 0, 8, 1])) for _ in shape[1:]]
        lines.append("sync();")
        lines.append(f"copy_async({g}, [{', '.join(offs)}], {s});")
        lines.append("commit();")
        if r.random() < 0.3:
            # a second group in flight
            s2 = self.fresh("s")
            self.shared_decls.append(
                f"{s2} = alloc_shared({t}, {shape_text(shape)});")
            offs2 = [f"{offs[0]} + 1"] + offs[1:]
            lines.append(f"copy_async({g}, [{', '.join(offs2)}], {s2});")
            lines.append("commit();")
            lines.append("wait(1);")
            lines.append("sync();")
            name = self.fresh()
            lines.append(f"{name} = load_shared({s}, "
                         f"[{', '.join('0' for _ in shape)}], "
                         f"{shape_text(shape)});")
            lines.append("wait(0);")
            self.features.add("copy_async-groups")
        else:
            lines.append("wait(0);")
            lines.append("sync();")
            name = self.fresh()
            lines.append(f"{name} = load_shared({s}, "
                         f"[{', '.join('0' for _ in shape)}], "
                         f"{shape_text(shape)});")
        lines.append("sync();")
        self.features.add(f"copy_async-{t}")
        scale = 1.0 if is_float(t) else float(2 ** (WIDTH[t] - 1))
        v = Val(name, t, shape, scale=scale)
        v.nonan = True
        if t in STORAGE:
            return [v, self.cast_to(v, r.choice(ARITH), lines)]
        return [v]

    def s_dot(self, scope, lines, acc=None, operands=None):
        r = self.rng
        kind = r.choice(["simt-f32", "simt-f16", "mma-f16", "mma-bf16",
                         "mma-f16f16", "mma-i8", "simt-i32", "simt-i8"])
        if kind.startswith("mma"):
            M = self.dim_for(r.choice([16, 16, 32, 48, 64]))
            N = self.dim_for(r.choice([8, 8, 16, 24, 32, 64]))
            K = self.dim_for(r.choice([16, 32, 64]) if kind != "mma-i8"
                             else r.choice([32, 64]))
        else:
            M, N, K = self.new_dim(), self.new_dim(), self.new_dim()
            if M.value * N.value > 2048 or M.value * K.value > 2048 or \
                    K.value * N.value > 2048:
                return None
        ab, ct = {"simt-f32": ("f32", "f32"), "simt-f16": ("f16", "f32"),
                  "mma-f16": ("f16", "f32"), "mma-bf16": ("bf16", "f32"),
                  "mma-f16f16": ("f16", "f16"), "mma-i8": ("i8", "i32"),
                  "simt-i32": ("i32", "i32"), "simt-i8": ("u8", "i32")}[kind]
        if kind == "mma-i8" and r.random() < 0.5:
            ab = "u8"
        if operands:
            a, b = operands
        else:
            a = self.value_of(scope, ab, (M, K), lines, allow_inexact=False)
            b = self.value_of(scope, ab, (K, N), lines, allow_inexact=False)
        if is_float(ab) and (a.scale > 8 or b.scale > 8):
            return None
        if acc is None:
            if r.random() < 0.5:
                c = Val(self.fresh(), ct, (M, N))
                ann = ""
                if r.random() < 0.2:
                    ann = f": {self.register_layout((M, N), ct)}"
                lines.append(f"{c.name}{ann} = zeros({ct}, [{M.text}, "
                             f"{N.text}]);")
            else:
                c = self.value_of(scope, ct, (M, N), lines,
                                  allow_inexact=ct == "f32")
                if c.terminal or c.scale > 64 and is_float(ct):
                    return None
        else:
            c = acc
        name = self.fresh() if acc is None else acc.name
        lines.append(f"{name} = dot({a.name}, {b.name}, {c.name});")
        self.features.add(f"dot-{kind}")
        k = K.value
        if is_float(ct):
            scale = a.scale * b.scale * math.sqrt(k) + c.scale
            err = c.err + 4 * EPS["f32"] * scale * math.sqrt(k)
            out = Val(name, ct, (M, N), True, scale, err)
            if ct != "f32":
                out.err += EPS[ct] * scale
                out.terminal = True
            return [out]
        return [Val(name, ct, (M, N), scale=2.0 ** 31)]

    def s_matmul_loop(self, scope, lines):
        """acc = dot over k-tiles, a and b loaded in the loop (optionally
        through shared memory with copy_async)."""
        r = self.rng
        trips = r.choice([2, 3, 4])
        var = self.fresh("k")
        M = self.dim_for(r.choice([16, 32, 64]))
        N = self.dim_for(r.choice([8, 16, 32]))
        K = self.dim_for(r.choice([16, 32]))
        ab = r.choice(["f16", "bf16", "f32", "i8"])
        if ab == "i8":
            K = self.dim_for(32)
        ct = "i32" if ab == "i8" else "f32"
        acc = Val(self.fresh("acc"), ct, (M, N))
        lines.append(f"{acc.name} = zeros({ct}, [{M.text}, {N.text}]);")
        ga = self.input_tensor(ab, 2)
        gb = self.input_tensor(ab, 2)
        row = f"blockIdx.x * {M.text}" if self.grid > 1 else "0"
        body = []
        wgmma = self.warps in (4, 8) and ab in ("f16", "bf16") and \
            r.random() < 0.4
        if wgmma:
            # The shapes and shared layouts of wgmma on sm_90a (the same dot
            # is mma.sync on sm_80): whole warpgroups, M a multiple of 64,
            # a [M, K] and b given transposed as [N, K], both K-major in rows
            # of 2K bytes with the 32/64/128-byte swizzle that fits them.
            M = self.dim_for(64 * r.choice([1, self.warps // 4]))
            N = self.dim_for(r.choice([8, 16, 32, 64]))
            K = self.dim_for(r.choice([16, 32, 64]))
            acc.shape = (M, N)
            lines[-1] = f"{acc.name} = zeros({ct}, [{M.text}, {N.text}]);"
            row = f"blockIdx.x * {M.text}" if self.grid > 1 else "0"
            sw = {16: 1, 32: 2, 64: 3}[K.value]
            sa, sb = self.fresh("s"), self.fresh("s")
            for s, rows in ((sa, M), (sb, N)):
                self.shared_decls.append(
                    f"{s}: shared({rows.text}, {K.text}).row_major()"
                    f".swizzle({sw}, 3, 3) = alloc_shared({ab}, "
                    f"[{rows.text}, {K.text}]);")
            # With dot_async, the group issued in one iteration is waited
            # for at the top of the next, before the copies overwrite the
            # tiles it reads, and after the loop.
            use_async = r.random() < 0.5
            body += (["wait_dot(0);"] if use_async else []) + [
                "sync();",
                f"copy_async({ga}, [{row}, {var} * {K.text}], {sa});",
                f"copy_async({gb}, [0, {var} * {K.text}], {sb});",
                "commit();", "wait(0);", "sync();"]
            ta, tb = self.fresh(), self.fresh()
            # Sometimes a is computed in registers (negated, which is exact),
            # so that wgmma reads it from registers, not by descriptor.
            side = self.side.random() < 0.35
            a_expr = f"load_shared({sa}, [0, 0], [{M.text}, {K.text}])"
            if side:
                a_expr = f"-{a_expr}"
                self.features.add("wgmma-register-a")
            body += [f"{ta} = {a_expr};",
                     f"{tb} = transpose(load_shared({sb}, [0, 0], "
                     f"[{N.text}, {K.text}]));"]
            self.features.add("matmul-loop-wgmma-shapes")
            if use_async:
                self.features.add("dot_async")
        elif r.random() < 0.5:
            sa, sb = self.fresh("s"), self.fresh("s")
            la = self.shared_layout(ab, (M, K))
            lb = self.shared_layout(ab, (K, N))
            self.shared_decls.append(
                f"{sa}{': ' + la if la else ''} = alloc_shared({ab}, "
                f"[{M.text}, {K.text}]);")
            self.shared_decls.append(
                f"{sb}{': ' + lb if lb else ''} = alloc_shared({ab}, "
                f"[{K.text}, {N.text}]);")
            body += ["sync();",
                     f"copy_async({ga}, [{row}, {var} * {K.text}], {sa});",
                     f"copy_async({gb}, [{var} * {K.text}, 0], {sb});",
                     "commit();", "wait(0);", "sync();"]
            ta, tb = self.fresh(), self.fresh()
            body += [f"{ta} = load_shared({sa}, [0, 0], [{M.text}, {K.text}]);",
                     f"{tb} = load_shared({sb}, [0, 0], [{K.text}, {N.text}]);"]
            self.features.add("matmul-loop-copy_async")
        else:
            ta, tb = self.fresh(), self.fresh()
            body += [f"{ta} = load_global({ga}, [{row}, {var} * {K.text}], "
                     f"[{M.text}, {K.text}]);",
                     f"{tb} = load_global({gb}, [{var} * {K.text}, 0], "
                     f"[{K.text}, {N.text}]);"]
            self.features.add("matmul-loop-global")
        dot = "dot_async" if wgmma and use_async else "dot"
        body.append(f"{acc.name} = {dot}({ta}, {tb}, {acc.name});")
        unroll = f" unroll({r.choice([1, 2])})" if r.random() < 0.2 else ""
        lines.append(f"for {var} in range(0, {trips}){unroll} {{")
        lines += ["  " + x for x in body]
        lines.append("}")
        if dot == "dot_async":
            lines.append("wait_dot(0);")
        k = K.value * trips
        if ct == "f32":
            acc.inexact = True
            acc.scale = math.sqrt(k)
            acc.err = 4 * EPS["f32"] * acc.scale * math.sqrt(k)
        else:
            acc.scale = 2.0 ** 31
        return [acc]

    def s_tma(self, scope, lines):
        """A box of a global input copied into shared memory by the TMA unit
        (copy_tma on an mbarrier, wait_barrier), read back; sometimes a
        second box onto the same barrier, or a second phase after a sync()
        that refills the tensor. Boxes overhang the tensor's edges (TMA
        fills zeros there)."""
        r = self.rng
        dtype = r.choice(ARITH)
        ebytes = WIDTH[dtype] // 8
        cols = r.choice([c for c in (4, 8, 16, 32, 64, 128)
                         if (c * ebytes) % 16 == 0 and c * ebytes <= 256])
        rows = r.choice([1, 2, 3, 8, 16, 24, 32])
        if rows * cols > 2048:
            rows = max(1, 2048 // cols)
        R, C = self.dim_for(rows), self.dim_for(cols)
        g = self.input_tensor(dtype, 2)
        s, b = self.fresh("s"), self.fresh("bar")
        row_bytes = cols * ebytes
        lay = f"shared({R.text}, {C.text}).row_major()"
        if row_bytes in (32, 64, 128) and r.random() < 0.6:
            bits = {32: 1, 64: 2, 128: 3}[row_bytes]
            base = {1: 4, 2: 3, 4: 2, 8: 1}[ebytes]
            lay += f".swizzle({bits}, {base}, 3)"
            self.features.add("tma-swizzle")
        two = r.random() < 0.3
        lines.append(f"{s}: {lay} = alloc_shared({dtype}, [{R.text}, "
                     f"{C.text}]);")
        tensors = [s]
        if two:
            # a second box onto the same barrier, which then expects two
            # arrivals per phase, into a tensor of its own
            s2 = self.fresh("s")
            lines.append(f"{s2}: {lay} = alloc_shared({dtype}, [{R.text}, "
                         f"{C.text}]);")
            tensors.append(s2)
        # Sometimes every thread arrives too (arrive: one arrival per
        # thread), as a consumer releasing a stage would.
        arrive = r.random() < 0.25
        count = len(tensors) + (self.threads if arrive else 0)
        lines.append(f"{b} = alloc_barrier({count});")

        def offsets():
            row = self.row_offset(R)
            col = r.choice(["0", "0", str(cols), f"n - {cols // 2}",
                            f"-{max(1, cols // 4)}"])
            return f"[{row}, {col}]"
        out = []
        phases = 2 if r.random() < 0.35 else 1
        scale = 1.0 if is_float(dtype) else float(2 ** (WIDTH[dtype] - 1))
        for phase in range(phases):
            if phase:
                # every thread is done reading before the boxes are refilled
                lines.append("sync();")
            for t in tensors:
                lines.append(f"copy_tma({g}, {offsets()}, {t}, {b});")
            if arrive:
                lines.append(f"arrive({b});")
            lines.append(f"wait_barrier({b}, {phase});")
            for t in tensors:
                v = Val(self.fresh(), dtype, (R, C), scale=scale)
                v.nonan = True
                lines.append(f"{v.name} = load_shared({t}, [0, 0], "
                             f"[{R.text}, {C.text}]);")
                out.append(v)
        self.features.add("tma")
        if phases == 2:
            self.features.add("tma-two-phases")
        if two:
            self.features.add("tma-two-copies")
        if arrive:
            self.features.add("tma-arrive")
        return out

    def s_atomic(self, scope, lines):
        name = "counter"
        if not any(o[0] == name for o in self.outputs):
            self.outputs.append((name, "i32", ["4"]))
        idx = self.rng.randint(0, 4)
        if self.grid == 1 and self.rng.random() < 0.5:
            v = self.fresh()
            lines.append(f"{v} = atomic_add({name}, [{idx}], "
                         f"{self.rng.randint(-5, 5)});")
            # the previous value, broadcast into a tile
            t = self.fresh()
            d = self.dim_for(4)
            lines.append(f"{t} = full(i32, [{d.text}], {v});")
            self.features.add("atomic_add-value")
            return [Val(t, "i32", (d,), scale=2.0 ** 31)]
        lines.append(f"atomic_add({name}, [{idx}], {self.rng.randint(-5, 5)});")
        self.features.add("atomic_add")
        return []

    # ---- control flow -----------------------------------------------------------------
    def carried_update(self, scope, lines, carried):
        """`x = x op y` keeping x's type."""
        r = self.rng
        x = carried
        t = x.dtype
        if x.inexact:
            y = self.value_of(scope, t, x.shape, lines, avoid=x)
            if y.terminal or y.scale > 16 or x.scale > 256:
                return
            op = r.choice(["+", "max", "min", "-"])
        else:
            y = self.value_of(scope, t, x.shape, lines, allow_inexact=False,
                              avoid=x)
            op = r.choice(["+", "-", "max", "min"] +
                          (["^", "*"] if is_int(t) else ["*"] if
                           x.scale < 4 and y.scale < 4 else []))
        if op in ("max", "min"):
            lines.append(f"{x.name} = {op}({x.name}, {y.name});")
        else:
            lines.append(f"{x.name} = {x.name} {op} {y.name};")
        x.err = x.err + y.err
        x.scale = x.scale + y.scale
        x.inexact = x.inexact or y.inexact

    def body(self, scope, n):
        lines = []
        local = list(scope)
        for _ in range(n):
            new = self.stmt(local, lines)
            local += new
        return lines, local

    def loop_carried(self, scope):
        cands = [v for v in scope if not v.scalar and not v.terminal and
                 v.dtype in ARITH and v.name[0] in "va" and
                 not (v.inexact and v.dtype != "f32")]
        r = self.rng
        r.shuffle(cands)
        return cands[:r.choice([1, 1, 2])]

    def bump_carried(self, carried, trips):
        for x in carried:
            if x.inexact:
                x.scale *= trips
                x.err *= trips

    def s_for(self, scope, lines):
        r = self.rng
        carried = self.loop_carried(scope)
        if not carried:
            return None
        trips = r.choice([1, 2, 3, 4])
        step = r.choice([1, 1, 2])
        start = r.choice([0, 0, 1])
        var = self.fresh("i")
        unroll = f" unroll({r.choice([1, 2, 4])})" if r.random() < 0.15 else ""
        stop = start + trips * step
        header = f"for {var} in range({start}, {stop}" + \
            (f", {step}" if step != 1 else "") + f"){unroll} {{"
        self.loop_depth += 1
        # Rows of stores in the loop are per iteration: (var - start) / step.
        self.iter_dims.append((f"({var} - {start}) / {step}"
                               if start or step != 1 else var, trips))
        body, local = self.body(scope, r.randint(1, 4))
        for x in carried:
            self.carried_update(local, body, x)
        if r.random() < 0.2:
            body.append(f"if {var} == {start + step * r.randint(0, trips)} "
                        "{ break; }")
            self.features.add("break-for")
        # a store of a loop-local value into per-iteration rows
        fresh = [v for v in local if v not in scope and not v.scalar]
        if fresh and not self.in_while and r.random() < 0.4:
            self.output_store(r.choice(fresh), body)
        self.iter_dims.pop()
        self.loop_depth -= 1
        lines.append(header)
        lines += ["  " + x for x in body]
        lines.append("}")
        self.bump_carried(carried, trips)
        self.features.add("for")
        return []

    def s_while(self, scope, lines):
        r = self.rng
        carried = self.loop_carried(scope)
        if not carried:
            return None
        w = self.fresh("w")
        trips = r.choice([1, 2, 3])
        lines.append(f"{w} = 0;")
        self.loop_depth += 1
        self.in_while += 1
        body, local = self.body(scope, r.randint(0, 3))
        self.in_while -= 1
        for x in carried:
            self.carried_update(local, body, x)
        body.append(f"{w} = {w} + 1;")
        if r.random() < 0.4:
            body.append(f"if {w} == {r.randint(1, trips)} {{ break; }}")
            self.features.add("break-while")
        self.loop_depth -= 1
        cond = f"{w} < {trips}"
        if r.random() < 0.3:
            cond = f"{w} < min({trips}, m + 1)"
        elif r.random() < 0.2:
            c = self.item_cond(scope)
            if c is not None:
                cond = f"{cond} && {c}"
        lines.append(f"while {cond} {{")
        lines += ["  " + x for x in body]
        lines.append("}")
        self.bump_carried(carried, trips)
        self.features.add("while")
        return []

    def item_cond(self, scope):
        """`item(...)` of a full reduction of an exact integer tile compared
        with a literal (a condition that depends on data, the same in every
        thread), or None."""
        r = self.rng
        cands = [v for v in scope if not v.scalar and v.shape and
                 not v.inexact and v.dtype in ("i8", "i16", "i32", "i64")]
        if not cands:
            return None
        v = r.choice(cands)
        op = r.choice(["max", "min"])
        e = v.name
        for axis in reversed(range(len(v.shape))):
            e = f"reduce_{op}({e}, {axis})"
        self.features.add("item")
        if r.random() < 0.5:
            return f"item({e}) % {r.randint(2, 3)} == {r.randint(0, 1)}"
        return f"item({e}) {r.choice(['<', '>', '>=', '!='])} {r.randint(-3, 3)}"

    def s_print(self, scope, lines):
        cands = [v for v in scope if not v.scalar and v.shape and
                 v.numel() <= 16]
        if not cands:
            return None
        v = self.rng.choice(cands)
        lines.append(f'print("{v.name}", {v.name});')
        self.features.add("print")
        return []

    def scalar_cond(self, scope=()):
        r = self.rng
        if scope and r.random() < 0.3:
            c = self.item_cond(scope)
            if c is not None:
                return c
        opts = [f"blockIdx.x == {r.randint(0, 2)}", f"m > {r.randint(0, 60)}",
                f"n % {r.randint(2, 5)} == {r.randint(0, 1)}",
                f"blockIdx.x * 3 + m < {r.randint(0, 90)}"]

        if self.iter_dims:
            var = self.iter_dims[-1][0]
            opts.append(f"{var} < {r.randint(0, 3)}")
        c = r.choice(opts)
        if r.random() < 0.2:
            c = f"{c} && {r.choice(opts)}"
        if r.random() < 0.08:
            # True in every thread (see thread_zero).
            self.features.add("thread-index")
            c = f"threadIdx.x < {self.block_threads} && {c}"
        return c

    def s_if(self, scope, lines):
        r = self.rng
        carried = self.loop_carried(scope)
        if not carried:
            return None
        self.in_branch += 1
        then, local = self.body(scope, r.randint(0, 2))
        for x in carried:
            self.carried_update(local, then, x)
        els = None
        if r.random() < 0.5:
            els, local2 = self.body(scope, r.randint(0, 2))
            for x in carried:
                if r.random() < 0.7:
                    self.carried_update(local2, els, x)
        self.in_branch -= 1
        lines.append(f"if {self.scalar_cond(scope)} {{")
        lines += ["  " + x for x in then]
        if els is not None:
            if r.random() < 0.3:
                lines.append(f"}} else if {self.scalar_cond(scope)} {{")
                lines += ["  " + x for x in els]
                lines.append("} else {")
                lines += ["  " + x for x in els]
                self.features.add("else-if")
            else:
                lines.append("} else {")
                lines += ["  " + x for x in els]
        lines.append("}")
        self.features.add("if")
        return []

    # ---- the kernel --------------------------------------------------------------------
    def set_warps(self, warps):
        """The warps the statements generated next run on (a group's)."""
        self.warps = warps
        self.threads = 32 * warps

    def store_some(self, scope, lines, low, high, but=None):
        """Stores between `low` and `high` of the tiles in `scope` (every
        value not yet consumed is a candidate output), except `but`."""
        live = [v for v in scope if not v.scalar and v.shape and v is not but]
        self.rng.shuffle(live)
        for v in live[: self.rng.randint(low, high)]:
            self.output_store(v, lines)

    def generate_pair(self):
        """Two thread groups at once: the first computes, stores a tile to
        shared memory and arrives on an mbarrier of one arrival per thread;
        the second waits for the barrier's phase 0, reads the tile and
        computes on. Each stores outputs of its own."""
        r = self.rng
        first_warps = self.warps
        lines_a, scope_a = [], []
        for _ in range(r.randint(2, 8)):
            scope_a += self.stmt(scope_a, lines_a)
        h = self.pick(scope_a, lambda v: not v.scalar and
                      len(v.shape) in (1, 2) and WIDTH[v.dtype] >= 8)
        if h is None:
            h = self.load_global("f32", self.new_shape(rank=2), lines_a)
        s, b = self.fresh("s"), self.fresh("bar")
        zeros = ", ".join("0" for _ in h.shape)
        self.shared_decls.append(
            f"{s} = alloc_shared({h.dtype}, {shape_text(h.shape)});")
        self.shared_decls.append(f"{b} = alloc_barrier({self.threads});")
        lines_a.append(f"store_shared({s}, {h.name}, [{zeros}]);")
        lines_a.append(f"arrive({b});")
        # After the hand-off, a tensor each group allocates and frees in
        # place: in program order the second could take the first's bytes,
        # but the groups run at the same time.
        if r.random() < 0.5:
            scope_a += self.s_shared(scope_a, lines_a, inline=True) or []
        self.store_some(scope_a, lines_a, 0, 2, but=h)

        self.set_warps(self.pair[1])
        w = Val(self.fresh(), h.dtype, h.shape, h.inexact, h.scale, h.err,
                h.terminal)
        w.nonan = h.nonan
        lines_b = [f"wait_barrier({b}, 0);",
                   f"{w.name} = load_shared({s}, [{zeros}], "
                   f"{shape_text(h.shape)});"]
        scope_b = [w]
        if r.random() < 0.5:
            scope_b += self.s_shared(scope_b, lines_b, inline=True) or []
        for _ in range(r.randint(1, 8)):
            scope_b += self.stmt(scope_b, lines_b)
        self.store_some(scope_b, lines_b, 1, 3)

        lines = [f"thread_group(0, {first_warps}) {{"]
        lines += ["  " + line for line in lines_a]
        lines += ["}", f"thread_group({self.pair[0]}, {self.pair[1]}) {{"]
        lines += ["  " + line for line in lines_b]
        lines += ["}"]
        self.group = None  # the lines hold both groups
        return self.render(lines)

    def generate(self):
        r = self.rng
        if self.pair:
            return self.generate_pair()
        lines = []
        scope = []
        for _ in range(r.randint(3, 12)):
            scope += self.stmt(scope, lines)
        self.store_some(scope, lines, 1, 3)
        if not self.outputs:
            v = self.load_global("f32", self.new_shape(), lines)
            self.output_store(v, lines)
        return self.render(lines)

    def render(self, lines):
        params = [f"{d.text} = {d.value}" for d in self.dims] + \
            [f"G = {self.grid}"]
        args = []
        for name, t, rank in self.inputs:
            ext = ["m", "n"] if rank == 2 else ["n"] if rank == 1 else \
                ["m", "3", "n"]
            args.append(f"{name}: global {t}[{', '.join(ext)}]")
        for name, t, exts in self.outputs:
            args.append(f"{name}: global {t}[{', '.join(exts)}]")
        ndiv = f" %{self.n_div}" if self.n_div else ""
        args += ["m: i32", f"n: i32{ndiv}"]
        head = [f"// tilus-smith seed {self.seed}",
                f"// SHAPE: m={self.m},n={self.n}"]
        if self.tma or self.pair:
            head.append("// ARCHS: sm_90a")
        tol = self.tolerance()
        if tol:
            head.append(f"// TOLERANCE: {tol}")
        text = "\n".join(head) + "\n"
        text += f"kernel smith<{', '.join(params)}>(\n    " + \
            ",\n    ".join(args) + \
            f")\n  grid(G) warps({self.block_threads // 32})\n{{\n"
        for s in self.shared_decls:
            text += "  " + s + "\n"
        indent = "  "
        if self.group:
            text += f"  thread_group({self.group[0]}, {self.group[1]}) {{\n"
            indent = "    "
        for s in lines:
            text += indent + s + "\n"
        if self.group:
            text += "  }\n"
        text += "}\n"
        return Program(text, {"m": self.m, "n": self.n}, tol,
                       sorted(self.features))

    def tolerance(self):
        """None when the default tolerance covers the estimated error."""
        default = 2.0 ** -10 if self.uses_tanh else 2.0 ** -16
        need = self.max_err * 4
        if need <= default:
            return None
        # An estimate that overflowed (scales multiplied past the float
        # range) gets the cap, like any estimate above it.
        t = 2.0 ** math.ceil(math.log2(need)) if math.isfinite(need) \
            else 2.0 ** -4
        for d in self.narrow_inexact_out:
            t = max(t, {"f16": 2.0 ** -9, "bf16": 2.0 ** -6}.get(d, t))
        return min(t, 2.0 ** -4)


def generate(seed):
    return Generator(seed).generate()
