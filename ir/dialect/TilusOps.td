//===- TilusOps.td - Instructions of the tile VM -----------*- tablegen -*-===//

#ifndef TILUS_OPS_TD
#define TILUS_OPS_TD

include "ir/dialect/TilusTypes.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Dialect/LLVMIR/LLVMOpBase.td"
include "mlir/IR/EnumAttr.td"

def Tilus_GlobalViewOp : Tilus_Op<"global_view", [Pure]> {
  let summary = "view a pointer parameter as a global tensor";
  let description = [{
    Gives a global tensor from a pointer to global memory and the run-time
    extents of its dynamic dimensions, in order.

    ```mlir
    %a = tilus.global_view %ptr[%n] : !llvm.ptr<1>, i32 -> !tilus.global<?xf32>
    ```
  }];
  let arguments = (ins LLVM_PointerInAddressSpace<1>:$ptr,
                       Variadic<AnySignlessInteger>:$dynamicExtents);
  let results = (outs Tilus_AnyGlobal:$result);
  let assemblyFormat = [{
    $ptr `[` $dynamicExtents `]` attr-dict `:` qualified(type($ptr)) (`,` qualified(type($dynamicExtents))^)? `->` qualified(type($result))
  }];
  let hasVerifier = 1;
}

def Tilus_BlockIdxOp : Tilus_Op<"block_idx", [Pure]> {
  let summary = "the index of the thread block along one grid dimension";
  let description = [{
    ```mlir
    %bx = tilus.block_idx 0 : i32
    ```
  }];
  let arguments = (ins ConfinedAttr<I32Attr, [IntMinValue<0>, IntMaxValue<2>]>:$dim);
  let results = (outs I32:$result);
  let assemblyFormat = "$dim attr-dict `:` qualified(type($result))";
}

def Tilus_ThreadIdxOp : Tilus_Op<"thread_idx", [Pure]> {
  let summary = "the index of the executing thread within its block";
  let description = [{
    Tile programs rarely need it; it exists for kernels that branch per thread.

    ```mlir
    %t = tilus.thread_idx : i32
    ```
  }];
  let results = (outs I32:$result);
  let assemblyFormat = "attr-dict `:` qualified(type($result))";
}

def Tilus_FullOp : Tilus_Op<"full", [Pure]> {
  let summary = "a tile with every element equal to a scalar";
  let description = [{
    ```mlir
    %t = tilus.full %x : f32 -> !tilus.tile<256xf32, #tilus.layout<"local(1).spatial(256)">>
    ```

    The value has the element type, or, for an unsigned integer element type
    (which has no scalar of its own), is the signless integer of the same
    width whose bits the elements take.
  }];
  let arguments = (ins AnyType:$value);
  let results = (outs Tilus_AnyTile:$result);
  let assemblyFormat = "$value attr-dict `:` qualified(type($value)) `->` qualified(type($result))";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// Whether a scalar of type `value` can fill a tile of `element`s.
    static bool canFill(mlir::Type value, mlir::Type element);
  }];
}

def Tilus_LoadGlobalOp : Tilus_Op<"load_global", [MemoryEffects<[MemRead]>]> {
  let summary = "load a tile from a global tensor at an offset";
  let description = [{
    Loads the elements `src[offsets + i]` for every index `i` of the result
    tile. Elements outside the tensor's extents read as zero, so tiles need not
    divide the tensor.

    ```mlir
    %t = tilus.load_global %a[%off] : !tilus.global<?xf32>, i32 -> !tilus.tile<256xf32, #tilus.layout<"local(1).spatial(256)">>
    ```
  }];
  let arguments = (ins Tilus_AnyGlobal:$src, Variadic<AnySignlessInteger>:$offsets);
  let results = (outs Tilus_AnyTile:$result);
  let assemblyFormat = [{
    $src `[` $offsets `]` attr-dict `:` qualified(type($src)) `,` qualified(type($offsets)) `->` qualified(type($result))
  }];
  let hasVerifier = 1;
}

def Tilus_StoreGlobalOp : Tilus_Op<"store_global", [MemoryEffects<[MemWrite]>]> {
  let summary = "store a tile into a global tensor at an offset";
  let description = [{
    Stores every element `i` of the tile to `dst[offsets + i]`; elements that
    fall outside the tensor's extents are not written.

    ```mlir
    tilus.store_global %t, %c[%off] : !tilus.tile<256xf32, #tilus.layout<"local(1).spatial(256)">>, !tilus.global<?xf32>, i32
    ```
  }];
  let arguments = (ins Tilus_AnyTile:$value, Tilus_AnyGlobal:$dst,
                       Variadic<AnySignlessInteger>:$offsets);
  let assemblyFormat = [{
    $value `,` $dst `[` $offsets `]` attr-dict `:` qualified(type($value)) `,` qualified(type($dst)) `,` qualified(type($offsets))
  }];
  let hasVerifier = 1;
}

def Tilus_AtomicAddOp : Tilus_Op<"atomic_add", [MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "add to one element of a global i32 tensor, once per block";
  let description = [{
    The block adds `value` to `dst[indices]` once (not once per thread) and
    every thread gets the element's previous value. The add is an
    acquire-release atomic at GPU scope after a barrier: the block's earlier
    global writes are visible to any block that sees the add, and the
    block's later global reads see what blocks whose adds it saw wrote
    before theirs. An index outside the tensor adds nothing and gives 0.
    Blocks that count arrivals this way can hand a reduction to the last
    one to arrive, within one launch.

    ```mlir
    %old = tilus.atomic_add %locks[%i], %one : !tilus.global<?xi32>
    ```
  }];
  let arguments = (ins Tilus_AnyGlobal:$dst, Variadic<I32>:$indices,
                       I32:$value);
  let results = (outs I32:$result);
  let assemblyFormat = [{
    $dst `[` $indices `]` `,` $value attr-dict `:` qualified(type($dst))
  }];
  let hasVerifier = 1;
}

class Tilus_ElementwiseBinaryOp<string mnemonic, string what>
    : Tilus_Op<mnemonic, [Pure, SameOperandsAndResultType]> {
  let summary = "elementwise " # what # " of two tiles";
  let description = [{
    Both operands and the result have the same shape, element type and
    layout; integer division truncates toward zero.

    ```mlir
    %z = tilus.}] # mnemonic # [{ %x, %y : !tilus.tile<256xf32, #tilus.layout<"local(1).spatial(256)">>
    ```
  }];
  let arguments = (ins Tilus_AnyTile:$lhs, Tilus_AnyTile:$rhs);
  let results = (outs Tilus_AnyTile:$result);
  let assemblyFormat = "$lhs `,` $rhs attr-dict `:` qualified(type($result))";
  let hasVerifier = 1;
}

def Tilus_AddOp : Tilus_ElementwiseBinaryOp<"add", "sum">;
def Tilus_SubOp : Tilus_ElementwiseBinaryOp<"sub", "difference">;
def Tilus_MulOp : Tilus_ElementwiseBinaryOp<"mul", "product">;
def Tilus_DivOp : Tilus_ElementwiseBinaryOp<"div", "quotient">;
def Tilus_RemOp : Tilus_ElementwiseBinaryOp<"rem", "remainder (sign of the dividend)">;
def Tilus_MinOp : Tilus_ElementwiseBinaryOp<"min", "minimum">;
def Tilus_MaxOp : Tilus_ElementwiseBinaryOp<"max", "maximum">;
def Tilus_AndOp : Tilus_ElementwiseBinaryOp<"and", "bitwise (logical for bool) and">;
def Tilus_OrOp : Tilus_ElementwiseBinaryOp<"or", "bitwise (logical for bool) or">;
def Tilus_XorOp : Tilus_ElementwiseBinaryOp<"xor", "bitwise (logical for bool) xor">;
def Tilus_ShlOp : Tilus_ElementwiseBinaryOp<"shl", "left shift (a count of the element width or more gives 0)">;
def Tilus_ShrOp : Tilus_ElementwiseBinaryOp<"shr", "right shift, arithmetic for signed and logical for unsigned integers (a count of the width or more gives the sign fill or 0)">;

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Tilus_UnaryKind : I32EnumAttr<"UnaryKind", "elementwise function", [
    I32EnumAttrCase<"neg", 0>, I32EnumAttrCase<"abs", 1>,
    I32EnumAttrCase<"exp", 2>, I32EnumAttrCase<"exp2", 3>,
    I32EnumAttrCase<"log", 4>, I32EnumAttrCase<"log2", 5>,
    I32EnumAttrCase<"sqrt", 6>, I32EnumAttrCase<"rsqrt", 7>,
    I32EnumAttrCase<"tanh", 8>, I32EnumAttrCase<"sin", 9>,
    I32EnumAttrCase<"cos", 10>, I32EnumAttrCase<"bitnot", 11, "not">,
    I32EnumAttrCase<"round", 12>, I32EnumAttrCase<"floor", 13>,
    I32EnumAttrCase<"ceil", 14>]> {
  let cppNamespace = "::tilus";
}

def Tilus_CmpPredicate : I32EnumAttr<"CmpPredicate", "comparison", [
    I32EnumAttrCase<"eq", 0>, I32EnumAttrCase<"ne", 1>,
    I32EnumAttrCase<"lt", 2>, I32EnumAttrCase<"le", 3>,
    I32EnumAttrCase<"gt", 4>, I32EnumAttrCase<"ge", 5>]> {
  let cppNamespace = "::tilus";
}

def Tilus_ReduceKind : I32EnumAttr<"ReduceKind", "reduction", [
    I32EnumAttrCase<"sum", 0>, I32EnumAttrCase<"max", 1>,
    I32EnumAttrCase<"min", 2>, I32EnumAttrCase<"argmax", 3>,
    I32EnumAttrCase<"argmin", 4>]> {
  let cppNamespace = "::tilus";
}

//===----------------------------------------------------------------------===//
// Creation and layout-changing instructions
//===----------------------------------------------------------------------===//

def Tilus_ArangeOp : Tilus_Op<"arange", [Pure]> {
  let summary = "a tile holding each element's index along one dimension";
  let description = [{
    Element `i` of the result is `i[dim]`, as a signed integer.

    ```mlir
    %i = tilus.arange 1 : !tilus.tile<4x64xi32>
    ```
  }];
  let arguments = (ins I64Attr:$dim);
  let results = (outs Tilus_AnyTile:$result);
  let assemblyFormat = "$dim attr-dict `:` qualified(type($result))";
  let hasVerifier = 1;
}

def Tilus_BroadcastOp : Tilus_Op<"broadcast", [Pure]> {
  let summary = "repeat a tile along its extent-1 dimensions";
  let description = [{
    Every dimension of the source has the result's extent or 1; element `i`
    of the result is the source element with the extent-1 coordinates set to
    0.

    ```mlir
    %b = tilus.broadcast %row : !tilus.tile<16x1xf32> -> !tilus.tile<16x64xf32>
    ```
  }];
  let arguments = (ins Tilus_AnyTile:$source);
  let results = (outs Tilus_AnyTile:$result);
  let assemblyFormat = "$source attr-dict `:` qualified(type($source)) `->` qualified(type($result))";
  let hasVerifier = 1;
}

def Tilus_ConvertLayoutOp : Tilus_Op<"convert_layout", [Pure]> {
  let summary = "the same tile distributed by another layout";
  let description = [{
    Moves the elements between threads (through shared memory where needed).

    ```mlir
    %c = tilus.convert_layout %t : !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">> -> !tilus.tile<64xf32, #tilus.layout<"spatial(32).local(2)">>
    ```
  }];
  let arguments = (ins Tilus_AnyTile:$source);
  let results = (outs Tilus_AnyTile:$result);
  let assemblyFormat = "$source attr-dict `:` qualified(type($source)) `->` qualified(type($result))";
  let hasVerifier = 1;
}

def Tilus_CastOp : Tilus_Op<"cast", [Pure]> {
  let summary = "convert each element to another data type";
  let description = [{
    Converts with the rules of the dtype library (docs/dtypes.md): float
    narrowing rounds to nearest even and saturates, float to integer
    truncates toward zero and saturates (NaN gives 0), integer narrowing keeps
    the low bits.

    ```mlir
    %h = tilus.cast %w : !tilus.tile<64x!tilus.u4> -> !tilus.tile<64xf16>
    ```
  }];
  let arguments = (ins Tilus_AnyTile:$source);
  let results = (outs Tilus_AnyTile:$result);
  let assemblyFormat = "$source attr-dict `:` qualified(type($source)) `->` qualified(type($result))";
  let hasVerifier = 1;
}

def Tilus_ViewOp : Tilus_Op<"view", [Pure]> {
  let summary = "reinterpret the bits a thread holds with another type and layout";
  let description = [{
    Each thread's registers are reinterpreted: the bits of its local
    elements, in local-index order, become the bits of the result's local
    elements. The element bit width times the local count must match, and so
    must the thread count.

    ```mlir
    %w = tilus.view %bytes : !tilus.tile<32xi8, #tilus.layout<"spatial(32)">> -> !tilus.tile<64x!tilus.u4, #tilus.layout<"spatial(32).local(2)">>
    ```
  }];
  let arguments = (ins Tilus_AnyTile:$source);
  let results = (outs Tilus_AnyTile:$result);
  let assemblyFormat = "$source attr-dict `:` qualified(type($source)) `->` qualified(type($result))";
  let hasVerifier = 1;
}

def Tilus_SliceOp : Tilus_Op<"slice", [Pure]> {
  let summary = "a sub-tile at constant offsets";
  let description = [{
    ```mlir
    %s = tilus.slice %t [0, 16] : !tilus.tile<16x32xf32> -> !tilus.tile<16x16xf32>
    ```
  }];
  let arguments = (ins Tilus_AnyTile:$source, DenseI64ArrayAttr:$offsets);
  let results = (outs Tilus_AnyTile:$result);
  let assemblyFormat = "$source $offsets attr-dict `:` qualified(type($source)) `->` qualified(type($result))";
  let hasVerifier = 1;
}

def Tilus_TransposeOp : Tilus_Op<"transpose", [Pure]> {
  let summary = "permute the dimensions of a tile";
  let description = [{
    Result dimension `d` is source dimension `permutation[d]`.

    ```mlir
    %t = tilus.transpose %x [1, 0] : !tilus.tile<16x32xf32> -> !tilus.tile<32x16xf32>
    ```
  }];
  let arguments = (ins Tilus_AnyTile:$source, DenseI64ArrayAttr:$permutation);
  let results = (outs Tilus_AnyTile:$result);
  let assemblyFormat = "$source $permutation attr-dict `:` qualified(type($source)) `->` qualified(type($result))";
  let hasVerifier = 1;
}

def Tilus_ReshapeOp : Tilus_Op<"reshape", [Pure]> {
  let summary = "the same elements in row-major order under another shape";
  let description = [{
    Element `i` of the result, numbered row-major, is element `i` of the
    source, numbered row-major; source and result have the same element
    type and number of elements. Inserting or removing extent-1 dimensions
    is a reshape. When every thread already holds the source elements of
    its result elements (the result layout is the source layout reshaped),
    it costs nothing; otherwise the elements move through shared memory.

    ```mlir
    %r = tilus.reshape %x : !tilus.tile<4x8xf32> -> !tilus.tile<32xf32>
    ```
  }];
  let arguments = (ins Tilus_AnyTile:$source);
  let results = (outs Tilus_AnyTile:$result);
  let assemblyFormat = "$source attr-dict `:` qualified(type($source)) `->` qualified(type($result))";
  let hasVerifier = 1;
}

def Tilus_ItemOp : Tilus_Op<"item", [Pure]> {
  let summary = "the one element of a tile as a scalar, in every thread";
  let description = [{
    The tile has exactly one element; every thread of the block gets its
    value (a uniform scalar). A layout names an element for every thread,
    so every thread holds a one-element tile and reads its own register.
    The result has the element type.

    ```mlir
    %s = tilus.item %t : !tilus.tile<1x1xf32> -> f32
    ```
  }];
  let arguments = (ins Tilus_AnyTile:$source);
  let results = (outs AnyTypeOf<[AnySignlessInteger, AnyFloat]>:$result);
  let assemblyFormat = "$source attr-dict `:` qualified(type($source)) `->` qualified(type($result))";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Elementwise functions, comparisons, selection, reductions, dot
//===----------------------------------------------------------------------===//

def Tilus_UnaryOp : Tilus_Op<"unary", [Pure, SameOperandsAndResultType]> {
  let summary = "an elementwise function of one tile, or of a float scalar";
  let description = [{
    `neg`, `abs`: numbers; `not`: integers (bitwise) and bool; the others
    (`exp`, `exp2`, `log`, `log2`, `sqrt`, `rsqrt`, `tanh`, `sin`, `cos`,
    `round` to nearest even, `floor`, `ceil`) floats. The transcendental
    functions lower to PTX `.approx` instructions; docs/codegen.md gives
    their error bounds. A scalar operand (f16, bf16 or f32) gets the same
    instruction as one element of a tile, so that a scalar and a tile agree.

    ```mlir
    %e = tilus.unary exp %x : !tilus.tile<64xf32>
    %r = tilus.unary rsqrt %s : f32
    ```
  }];
  let arguments = (ins Tilus_UnaryKind:$kind, Tilus_TileOrFloat:$source);
  let results = (outs Tilus_TileOrFloat:$result);
  let assemblyFormat = "$kind $source attr-dict `:` qualified(type($result))";
  let hasVerifier = 1;
}

def Tilus_CmpOp : Tilus_Op<"cmp", [Pure, AllTypesMatch<["lhs", "rhs"]>]> {
  let summary = "elementwise comparison of two tiles";
  let description = [{
    The result is a tile of `i1` (bool) with the operands' shape and layout.
    Float comparisons are ordered: any comparison with NaN is false, except
    `ne`.

    ```mlir
    %m = tilus.cmp lt %x, %y : !tilus.tile<64xf32> -> !tilus.tile<64xi1>
    ```
  }];
  let arguments = (ins Tilus_CmpPredicate:$predicate, Tilus_AnyTile:$lhs,
                       Tilus_AnyTile:$rhs);
  let results = (outs Tilus_AnyTile:$result);
  let assemblyFormat = "$predicate $lhs `,` $rhs attr-dict `:` qualified(type($lhs)) `->` qualified(type($result))";
  let hasVerifier = 1;
}

def Tilus_WhereOp : Tilus_Op<"where", [Pure, AllTypesMatch<["trueValue", "falseValue", "result"]>]> {
  let summary = "elementwise selection between two tiles";
  let description = [{
    ```mlir
    %r = tilus.where %m, %x, %y : !tilus.tile<64xi1>, !tilus.tile<64xf32>
    ```
  }];
  let arguments = (ins Tilus_AnyTile:$condition, Tilus_AnyTile:$trueValue,
                       Tilus_AnyTile:$falseValue);
  let results = (outs Tilus_AnyTile:$result);
  let assemblyFormat = "$condition `,` $trueValue `,` $falseValue attr-dict `:` qualified(type($condition)) `,` qualified(type($result))";
  let hasVerifier = 1;
}

def Tilus_ReduceOp : Tilus_Op<"reduce", [Pure]> {
  let summary = "reduce a tile over one dimension";
  let description = [{
    Sums, or takes the maximum or minimum of, the elements along `dim`;
    `argmax` and `argmin` give the `i32` index along `dim` of the largest or
    smallest element, the first of equal ones, with NaN counting as beyond
    every number (the first NaN wins, as in numpy). With `keepdim` the
    result keeps that dimension with extent 1, else it is removed (a rank-1
    tile reduces to extent 1). Floats sum in an order the layout decides.

    ```mlir
    %s = tilus.reduce sum %x {dim = 1 : i64, keepdim = true} : !tilus.tile<16x64xf32> -> !tilus.tile<16x1xf32>
    %i = tilus.reduce argmax %x {dim = 1 : i64, keepdim = false} : !tilus.tile<16x64xf32> -> !tilus.tile<16xi32>
    ```
  }];
  let arguments = (ins Tilus_ReduceKind:$kind, Tilus_AnyTile:$source,
                       I64Attr:$dim, BoolAttr:$keepdim);
  let results = (outs Tilus_AnyTile:$result);
  let assemblyFormat = "$kind $source attr-dict `:` qualified(type($source)) `->` qualified(type($result))";
  let hasVerifier = 1;
}

def Tilus_DotOp : Tilus_Op<"dot", [Pure, AllTypesMatch<["c", "result"]>]> {
  let summary = "matrix product with accumulation: a @ b + c";
  let description = [{
    `a` is M x K, `b` K x N, `c` and the result M x N. `a` and `b` have one
    element type; products accumulate in `c`'s type.

    With `async` (the language's `dot_async`), a dot lowered to wgmma on
    sm_90a is issued and committed as one wgmma group without waiting for
    it: the result may feed only the accumulator of another async dot or a
    `tilus.wait_dot` that covers its group (the frontend checks this). On
    every other path `async` changes nothing.

    ```mlir
    %d = tilus.dot %a, %b, %c : !tilus.tile<16x8xf16>, !tilus.tile<8x32xf16>, !tilus.tile<16x32xf32>
    %e = tilus.dot async %a, %b, %d : !tilus.tile<16x8xf16>, !tilus.tile<8x32xf16>, !tilus.tile<16x32xf32>
    ```
  }];
  let arguments = (ins Tilus_AnyTile:$a, Tilus_AnyTile:$b, Tilus_AnyTile:$c,
                       UnitAttr:$async);
  let results = (outs Tilus_AnyTile:$result);
  let builders = [
    OpBuilder<(ins "::mlir::Type":$result, "::mlir::Value":$a,
                   "::mlir::Value":$b, "::mlir::Value":$c), [{
      build($_builder, $_state, result, a, b, c, /*async=*/false);
    }]>
  ];
  let assemblyFormat = "(`async` $async^)? $a `,` $b `,` $c attr-dict `:` qualified(type($a)) `,` qualified(type($b)) `,` qualified(type($result))";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Shared memory, asynchronous copies, barriers
//===----------------------------------------------------------------------===//

def Tilus_AllocSharedOp : Tilus_Op<"alloc_shared", [MemoryEffects<[MemAlloc]>]> {
  let summary = "allocate a tensor in shared memory";
  let description = [{
    Its contents are undefined until written. The shared-memory planning pass
    gives it an offset; its lifetime ends at the matching `free_shared` (or
    the end of the kernel).

    ```mlir
    %s = tilus.alloc_shared : !tilus.shared<64x64xf16>
    ```
  }];
  let results = (outs Tilus_AnyShared:$result);
  let assemblyFormat = "attr-dict `:` qualified(type($result))";
  let hasVerifier = 1;
}

def Tilus_FreeSharedOp : Tilus_Op<"free_shared", [MemoryEffects<[MemFree]>]> {
  let summary = "end the lifetime of a shared tensor";
  let description = [{
    ```mlir
    tilus.free_shared %s : !tilus.shared<64x64xf16>
    ```
  }];
  let arguments = (ins Tilus_AnyShared:$tensor);
  let assemblyFormat = "$tensor attr-dict `:` qualified(type($tensor))";
}

def Tilus_LoadSharedOp : Tilus_Op<"load_shared", [MemoryEffects<[MemRead]>]> {
  let summary = "load a tile from a shared tensor at constant or run-time offsets";
  let description = [{
    The tile must lie inside the shared tensor.

    ```mlir
    %t = tilus.load_shared %s[%c0, %k] : !tilus.shared<64x64xf16>, i32, i32 -> !tilus.tile<64x16xf16>
    ```
  }];
  let arguments = (ins Tilus_AnyShared:$src, Variadic<AnySignlessInteger>:$offsets);
  let results = (outs Tilus_AnyTile:$result);
  let assemblyFormat = [{
    $src `[` $offsets `]` attr-dict `:` qualified(type($src)) `,` qualified(type($offsets)) `->` qualified(type($result))
  }];
  let hasVerifier = 1;
}

def Tilus_StoreSharedOp : Tilus_Op<"store_shared", [MemoryEffects<[MemWrite]>]> {
  let summary = "store a tile into a shared tensor at offsets";
  let description = [{
    ```mlir
    tilus.store_shared %t, %s[%c0, %c0] : !tilus.tile<64x64xf16>, !tilus.shared<64x64xf16>, i32, i32
    ```
  }];
  let arguments = (ins Tilus_AnyTile:$value, Tilus_AnyShared:$dst,
                       Variadic<AnySignlessInteger>:$offsets);
  let assemblyFormat = [{
    $value `,` $dst `[` $offsets `]` attr-dict `:` qualified(type($value)) `,` qualified(type($dst)) `,` qualified(type($offsets))
  }];
  let hasVerifier = 1;
}

def Tilus_CopyAsyncOp : Tilus_Op<"copy_async", [MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "start copying a global region into a shared tensor";
  let description = [{
    Copies the region of `src` at `offsets` with the shape of `dst` into
    `dst`; elements outside `src` are written as zero. The data is there only
    after a `copy_async_wait` that covers the group this copy was committed
    in.

    ```mlir
    tilus.copy_async %a[%m, %k], %s : !tilus.global<?x?xf16>, !tilus.shared<64x64xf16>, i32, i32
    ```
  }];
  let arguments = (ins Tilus_AnyGlobal:$src, Variadic<AnySignlessInteger>:$offsets,
                       Tilus_AnyShared:$dst);
  let assemblyFormat = [{
    $src `[` $offsets `]` `,` $dst attr-dict `:` qualified(type($src)) `,` qualified(type($dst)) `,` qualified(type($offsets))
  }];
  let hasVerifier = 1;
}

def Tilus_CopyAsyncCommitOp : Tilus_Op<"copy_async_commit"> {
  let summary = "close the group of the copies started since the last commit";
  let description = [{
    ```mlir
    tilus.copy_async_commit
    ```
  }];
  let assemblyFormat = "attr-dict";
}

def Tilus_CopyAsyncWaitOp : Tilus_Op<"copy_async_wait"> {
  let summary = "wait until at most `pending` committed groups are in flight";
  let description = [{
    Waits for the calling thread's copies; a `sync` afterwards makes every
    thread's copies visible to the block.

    ```mlir
    tilus.copy_async_wait 0
    ```
  }];
  let arguments = (ins ConfinedAttr<I64Attr, [IntMinValue<0>, IntMaxValue<7>]>:$pending);
  let assemblyFormat = "$pending attr-dict";
}

def Tilus_WaitDotOp : Tilus_Op<"wait_dot"> {
  let summary = "wait until at most `pending` async dot groups are in flight";
  let description = [{
    `wgmma.wait_group pending` when the kernel has a dot lowered to wgmma;
    nothing otherwise. The operands are the tiles of async dots that may be
    in flight here (the frontend passes every such variable); each result is
    its operand, now ordered after the wait, so that no read of an
    accumulator moves above it. Results of groups the wait does not cover
    may again only feed an async dot's accumulator or a later wait.

    ```mlir
    %r = tilus.wait_dot 1, %acc : !tilus.tile<64x64xf32> -> !tilus.tile<64x64xf32>
    ```
  }];
  let arguments = (ins ConfinedAttr<I64Attr, [IntMinValue<0>, IntMaxValue<7>]>:$pending,
                       Variadic<Tilus_AnyTile>:$accumulators);
  let results = (outs Variadic<Tilus_AnyTile>:$results);
  let assemblyFormat = "$pending (`,` $accumulators^ `:` qualified(type($accumulators)) `->` qualified(type($results)))? attr-dict";
  let hasVerifier = 1;
}

def Tilus_AllocBarrierOp : Tilus_Op<"alloc_barrier", [MemoryEffects<[MemAlloc, MemWrite]>]> {
  let summary = "allocate and initialise an mbarrier in shared memory";
  let description = [{
    An mbarrier whose phases each expect `count` arrivals (1 to 2^20 - 1).
    One thread initialises it (`mbarrier.init`), then the block synchronises
    (after `fence.mbarrier_init`), so every thread and the TMA unit see it
    initialised; the first phase has parity 0. Shared-memory planning gives
    it 8 bytes for the whole kernel.

    ```mlir
    %bar = tilus.alloc_barrier 1 : !tilus.barrier
    ```
  }];
  let arguments = (ins ConfinedAttr<I64Attr, [IntMinValue<1>, IntMaxValue<1048575>]>:$count);
  let results = (outs Tilus_AnyBarrier:$result);
  let assemblyFormat = "$count attr-dict `:` qualified(type($result))";
}

def Tilus_CopyTmaOp : Tilus_Op<"copy_tma", [MemoryEffects<[MemRead, MemWrite]>]> {
  let summary = "copy a global box into a shared tensor with the TMA unit";
  let description = [{
    One thread of the block arrives on `barrier` with the tile's byte count
    as expected transactions (`mbarrier.arrive.expect_tx`) and starts a
    `cp.async.bulk.tensor` of the box of `src` at `offsets` with the shape of
    `dst`; elements outside `src` are written as zero. The copy counts as
    one arrival on the barrier's current phase; the data may be read after a
    `tilus.wait_barrier` for that phase. The shared tensor's layout must be
    row-major, unswizzled or with TMA's 32, 64 or 128-byte swizzle
    (docs/language.md, "TMA copies and mbarriers"); the global tensor must be
    a kernel parameter whose rows start 16-byte aligned.

    ```mlir
    tilus.copy_tma %a[%m, %k], %s, %bar : !tilus.global<?x?xf16>, !tilus.shared<64x64xf16>, i32, i32
    ```
  }];
  let arguments = (ins Tilus_AnyGlobal:$src, Variadic<AnySignlessInteger>:$offsets,
                       Tilus_AnyShared:$dst, Tilus_AnyBarrier:$barrier);
  let assemblyFormat = [{
    $src `[` $offsets `]` `,` $dst `,` $barrier attr-dict `:` qualified(type($src)) `,` qualified(type($dst)) `,` qualified(type($offsets))
  }];
  let hasVerifier = 1;
}

def Tilus_WaitBarrierOp : Tilus_Op<"wait_barrier"> {
  let summary = "wait until the barrier's phase of the given parity completes";
  let description = [{
    Every thread waits (an `mbarrier.try_wait.parity` loop) until the phase
    of parity `phase % 2` is complete: the current phase when the barrier is
    in a phase of that parity, the preceding one otherwise (which returns at
    once). Writes made before the arrivals of that phase (TMA copies among
    them) are visible afterwards.

    ```mlir
    tilus.wait_barrier %bar, %phase : i32
    ```
  }];
  let arguments = (ins Tilus_AnyBarrier:$barrier, AnySignlessInteger:$phase);
  let assemblyFormat = "$barrier `,` $phase attr-dict `:` qualified(type($phase))";
}

def Tilus_ArriveBarrierOp : Tilus_Op<"arrive_barrier"> {
  let summary = "every thread of the block arrives on the barrier once";
  let description = [{
    Each of the block's threads performs one `mbarrier.arrive` (release
    semantics) on the current phase: a barrier that consumers release
    expects the block's thread count as its arrivals.

    ```mlir
    tilus.arrive_barrier %bar
    ```
  }];
  let arguments = (ins Tilus_AnyBarrier:$barrier);
  let assemblyFormat = "$barrier attr-dict";
}

def Tilus_SyncOp : Tilus_Op<"sync"> {
  let summary = "a barrier for every thread of the block";
  let description = [{
    ```mlir
    tilus.sync
    ```
  }];
  let assemblyFormat = "attr-dict";
}

def Tilus_ThreadGroupOp : Tilus_Op<"thread_group", [NoTerminator, SingleBlock, RecursiveMemoryEffects]> {
  let summary = "run a region in a contiguous range of the block's warps";
  let description = [{
    Warps `first_warp` .. `first_warp + num_warps - 1` run the body; the
    other warps skip it. Inside the body register tiles are spread over the
    group's `32 * num_warps` threads (their layouts span that many threads,
    numbered from the group's first thread), `tilus.sync` is a named barrier
    over the group's threads, and `tilus.arrive_barrier` arrives once per
    thread of the group. Values defined in the body are not visible after it;
    values defined before it (shared tensors, barriers, scalars, tiles) may
    be used in it. Groups are statements of the kernel's body (not inside
    loops, branches or other groups), at most 15 of them (named barriers 1
    to 15; barrier 0 is the block's).

    ```mlir
    tilus.thread_group warps(0, 1) {
      tilus.copy_tma %a[%m, %k], %s, %bar : ...
    }
    ```
  }];
  let arguments = (ins ConfinedAttr<I64Attr, [IntMinValue<0>]>:$first_warp,
                       ConfinedAttr<I64Attr, [IntMinValue<1>]>:$num_warps);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "`warps` `(` $first_warp `,` $num_warps `)` $body attr-dict";
  let hasVerifier = 1;
  let extraClassDeclaration = [{
    /// The group's named barrier: 1 + its position among the kernel's groups.
    unsigned getBarrierId();
  }];
}

def Tilus_PrintOp : Tilus_Op<"print"> {
  let summary = "print a tile or scalar from the device, for debugging";
  let description = [{
    Every element is printed once (by its first holder) as
    `label[i, j] = value`, a scalar as `label = value`, from every block.

    ```mlir
    tilus.print "x" %x : !tilus.tile<4xf32>
    ```
  }];
  let arguments = (ins StrAttr:$label, AnyType:$value);
  let assemblyFormat = "$label $value attr-dict `:` qualified(type($value))";
  let hasVerifier = 1;
}

#endif // TILUS_OPS_TD
