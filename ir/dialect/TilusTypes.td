//===- TilusTypes.td - Types of the tilus dialect ----------*- tablegen -*-===//

#ifndef TILUS_TYPES_TD
#define TILUS_TYPES_TD

include "ir/dialect/TilusAttrs.td"
include "mlir/IR/BuiltinTypeInterfaces.td"

def Tilus_GlobalTensorType : Tilus_Type<"GlobalTensor", "global"> {
  let summary = "A tensor in global memory: a pointer and a row-major shape";
  let description = [{
    `!tilus.global<?x128xf16>` is a row-major tensor of f16 in global memory
    whose first extent is known at run time. Values of this type are made by
    `tilus.global_view` from a kernel's pointer parameter.
  }];
  let parameters = (ins ArrayRefParameter<"int64_t">:$shape,
                        "::mlir::Type":$elementType);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    unsigned getRank() const { return getShape().size(); }
  }];
}

def Tilus_TileType : Tilus_Type<"Tile", "tile"> {
  let summary = "A register tile distributed over the threads of a block";
  let description = [{
    `!tilus.tile<256xf32, #tilus.layout<"local(2).spatial(128)">>` is a tile of
    256 f32 values held in the registers of 128 threads, two values each.
    `!tilus.tile<256xf32>` has no layout yet: layout inference gives it one,
    and code generation requires it.
  }];
  let parameters = (ins ArrayRefParameter<"int64_t">:$shape,
                        "::mlir::Type":$elementType,
                        OptionalParameter<"::tilus::LayoutAttr">:$layout);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    unsigned getRank() const { return getShape().size(); }
    int64_t getNumElements() const;
  }];
}

def Tilus_ElementType : TypeDef<Tilus_Dialect, "Element"> {
  let typeName = "tilus.element";
  let summary = "A data type that MLIR's builtin types do not have";
  let description = [{
    Unsigned integers (`!tilus.u4`, `!tilus.u32`), signed integers narrower
    than a byte (`!tilus.i3`) and the small float formats (`!tilus.f6e3m2`,
    `!tilus.f8e4m3`), with the exact definitions of the dtype library
    (docs/dtypes.md). f16, bf16, f32 and the signed i8/i16/i32/i64 are MLIR's
    builtin types; bool is `i1`.
  }];
  let parameters = (ins StringRefParameter<"dtype name">:$name);
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    /// The dtype library's description of this type.
    ::tilus::DType getDType() const;
  }];
}

def Tilus_SharedTensorType : Tilus_Type<"SharedTensor", "shared"> {
  let summary = "A tensor in the block's shared memory";
  let description = [{
    `!tilus.shared<64x64xf16, #tilus.shared_layout<"shared(64,64).row_major().swizzle(3,3,3)">>`;
    without a layout, the tensor is row-major until layout inference picks
    one.
  }];
  let parameters = (ins ArrayRefParameter<"int64_t">:$shape,
                        "::mlir::Type":$elementType,
                        OptionalParameter<"::tilus::SharedLayoutAttr">:$layout);
  let hasCustomAssemblyFormat = 1;
  let genVerifyDecl = 1;
  let extraClassDeclaration = [{
    unsigned getRank() const { return getShape().size(); }
    int64_t getNumElements() const;
  }];
}

def Tilus_BarrierType : Tilus_Type<"Barrier", "barrier"> {
  let summary = "An mbarrier in the block's shared memory";
  let description = [{
    `!tilus.barrier` is one 8-byte mbarrier object in shared memory (PTX
    ISA "Parallel Synchronization and Communication Instructions: mbarrier"),
    made by `tilus.alloc_barrier`. A phase completes when its expected
    arrivals have arrived and the bytes of the TMA copies it tracks have
    landed; threads wait for a phase by its parity.
  }];
}

def Tilus_AnyTile : Type<CPred<"::llvm::isa<::tilus::TileType>($_self)">,
                         "register tile", "::tilus::TileType">;
def Tilus_TileOrFloat : AnyTypeOf<[Tilus_AnyTile, F16, BF16, F32],
                                   "register tile or f16, bf16, f32 scalar">;
def Tilus_AnyGlobal : Type<CPred<"::llvm::isa<::tilus::GlobalTensorType>($_self)">,
                           "global tensor", "::tilus::GlobalTensorType">;


def Tilus_AnyShared : Type<CPred<"::llvm::isa<::tilus::SharedTensorType>($_self)">,
                           "shared tensor", "::tilus::SharedTensorType">;

def Tilus_AnyBarrier
    : Type<CPred<"::llvm::isa<::tilus::BarrierType>($_self)">, "mbarrier",
           "::tilus::BarrierType">,
      BuildableType<"::tilus::BarrierType::get($_builder.getContext())">;

#endif // TILUS_TYPES_TD
