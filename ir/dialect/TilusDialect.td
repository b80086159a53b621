//===- TilusDialect.td - The tilus dialect -----------------*- tablegen -*-===//
//
// The tile virtual machine's instruction set: kernels written at thread-block
// level over global tensors (pointer + shape) and register tiles distributed
// over the block's threads by a layout.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_DIALECT_TD
#define TILUS_DIALECT_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Tilus_Dialect : Dialect {
  let name = "tilus";
  let cppNamespace = "::tilus";
  let summary = "A tile-level virtual machine for low-precision GPU kernels";
  let description = [{
    A `tilus` kernel is a `func.func` marked with the `tilus.kernel` attribute.
    Its body runs once per thread block; register tiles (`!tilus.tile`) are
    values distributed over the block's threads by a `#tilus.layout`, global
    tensors (`!tilus.global`) are views of device memory with a shape.
  }];
  // Element types print as `!tilus.u4`: the keyword is the dtype's name.
  let useDefaultTypePrinterParser = 0;
  let extraClassDeclaration = [{
    ::mlir::Type parseType(::mlir::DialectAsmParser &parser) const override;
    void printType(::mlir::Type type,
                   ::mlir::DialectAsmPrinter &printer) const override;
  }];
  let useDefaultAttributePrinterParser = 1;
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::LLVM::LLVMDialect"];
  let hasOperationAttrVerify = 1;
  let hasRegionArgAttrVerify = 1;
}

class Tilus_Type<string name, string typeMnemonic, list<Trait> traits = []>
    : TypeDef<Tilus_Dialect, name, traits> {
  let mnemonic = typeMnemonic;
}

class Tilus_Attr<string name, string attrMnemonic, list<Trait> traits = []>
    : AttrDef<Tilus_Dialect, name, traits> {
  let mnemonic = attrMnemonic;
}

// Every instruction runs on the threads of a kernel: outside a function it
// would pass the verifier and the lowering and reach LLVM IR translation with
// no function to emit into.
def Tilus_InFunction : NativeOpTrait<"InFunction"> {
  let cppNamespace = "::tilus::OpTrait";
}

class Tilus_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tilus_Dialect, mnemonic, !listconcat(traits, [Tilus_InFunction])>;

#endif // TILUS_DIALECT_TD
