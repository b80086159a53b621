//===- TilusOps.td - Instructions of the tile VM -----------*- tablegen -*-===//

#ifndef TILUS_OPS_TD
#define TILUS_OPS_TD

include "ir/dialect/TilusTypes.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/Interfaces/InferTypeOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Dialect/LLVMIR/LLVMOpBase.td"

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
  }];
  let arguments = (ins AnyType:$value);
  let results = (outs Tilus_AnyTile:$result);
  let assemblyFormat = "$value attr-dict `:` qualified(type($value)) `->` qualified(type($result))";
  let hasVerifier = 1;
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

#endif // TILUS_OPS_TD
