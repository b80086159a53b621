//===- TileLowering.h - Lowering tilus ops to per-thread code ---*- C++ -*-===//
//
// The first stage of code generation: each register tile becomes the vector of
// the elements one thread holds (its layout's local index order), global
// tensors become an LLVM struct of a pointer and extents, and every tilus
// instruction becomes per-thread arith/scf/vector/LLVM/NVVM operations.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_CODEGEN_TILELOWERING_H
#define TILUS_CODEGEN_TILELOWERING_H

#include "target/TargetInfo.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Transforms/DialectConversion.h"

namespace tilus {

/// threadIdx.x relative to the first thread of the thread group around the
/// insertion point of `b` (the branch a `tilus.thread_group` becomes, marked
/// with kThreadGroupAttr), or threadIdx.x outside groups: the thread index
/// layouts are lowered with.
mlir::Value createThreadId(mlir::OpBuilder &b, mlir::Location loc);

/// A barrier over the threads that run the insertion point of `b`:
/// `bar.sync 0` (the block's) outside groups, `bar.sync id, count` with the
/// group's named barrier inside one.
void createBarrier(mlir::OpBuilder &b, mlir::Location loc);

/// Turns each `tilus.thread_group` into an scf.if on the warp index that
/// holds its body, marked with kThreadGroupAttr (codegen/ConvertTilusToLLVM.cpp).
void lowerThreadGroups(mlir::ModuleOp module);

/// Adds the tile and global-tensor type conversions to `converter` (which
/// must already convert the scalar types it meets).
void populateTileTypeConversions(mlir::TypeConverter &converter);

/// Patterns for the global-memory instructions (codegen/MemoryLowering.cpp).
void populateMemoryLoweringPatterns(const mlir::TypeConverter &converter,
                                    mlir::RewritePatternSet &patterns);

/// Patterns for tile creation, indices and elementwise arithmetic
/// (codegen/ElementwiseLowering.cpp).
void populateElementwiseLoweringPatterns(const mlir::TypeConverter &converter,
                                         mlir::RewritePatternSet &patterns);

/// Shared tensors, their loads and stores, asynchronous copies and barriers
/// (codegen/SharedMemoryLowering.cpp); `target` decides whether stores may
/// use stmatrix.
void populateSharedMemoryLoweringPatterns(const mlir::TypeConverter &converter,
                                          mlir::RewritePatternSet &patterns,
                                          const TargetInfo &target);

/// Instructions that move elements between threads or registers:
/// convert_layout, broadcast, slice, transpose, arange
/// (codegen/LayoutLowering.cpp).
void populateLayoutLoweringPatterns(const mlir::TypeConverter &converter,
                                    mlir::RewritePatternSet &patterns);

/// Elementwise functions (the `.approx` special functions among them),
/// comparisons, where, cast and view (codegen/MathLowering.cpp).
void populateMathLoweringPatterns(const mlir::TypeConverter &converter,
                                  mlir::RewritePatternSet &patterns);

/// Reductions and the SIMT dot (codegen/ReduceLowering.cpp).
void populateReduceLoweringPatterns(const mlir::TypeConverter &converter,
                                    mlir::RewritePatternSet &patterns);

/// dot on tensor cores with mma.sync where the operand layouts divide by
/// the mma atoms (codegen/MmaLowering.cpp); registered ahead of the SIMT dot.
/// With `remarks`, every dot gets a remark naming the instruction, the warp
/// tiling and how its operands are loaded, or why it stays SIMT.
/// On a target with wgmma, the remark of a dot left to mma.sync also says
/// why it is no wgmma.
/// Writes a dot's accumulator registers back into the flat vector `c` of the
/// accumulator tile: `accs[i][r]` is register r of instruction tile i, whose
/// elements start at i * tileLocals, each register holding `perRegister`
/// consecutive elements (one element, a vector of them, or an integer word
/// that is bitcast to a vector of `elementType`).
mlir::Value insertAccumulatorRegisters(
    mlir::OpBuilder &b, mlir::Location loc, mlir::Value c,
    llvm::ArrayRef<llvm::SmallVector<mlir::Value>> accs, int64_t tileLocals,
    int64_t perRegister, mlir::Type elementType);

void populateMmaLoweringPatterns(const mlir::TypeConverter &converter,
                                 mlir::RewritePatternSet &patterns,
                                 const TargetInfo &target,
                                 bool remarks = false);

/// Whether the kernel enclosing `op` has a dot lowered to wgmma (marked
/// `tilus.wgmma`).
bool kernelHasWgmma(mlir::Operation *op);

/// dot on sm_90a with wgmma.mma_async, for the dots layout inference marked
/// `tilus.wgmma`, async ones included, and wait_dot
/// (codegen/WgmmaLowering.cpp); registered ahead of mma.sync.
void populateWgmmaLoweringPatterns(const mlir::TypeConverter &converter,
                                   mlir::RewritePatternSet &patterns,
                                   const TargetInfo &target,
                                   bool remarks = false);

/// mbarriers and TMA copies (codegen/TmaLowering.cpp); each op is an error
/// on a target without TMA.
void populateTmaLoweringPatterns(const mlir::TypeConverter &converter,
                                 mlir::RewritePatternSet &patterns,
                                 const TargetInfo &target);

/// Gives each kernel one hidden tensor-map argument per distinct (global
/// parameter, box, swizzle) its copy_tma ops read, marks each copy with its
/// argument and lists the maps in the kernel's `tilus.tensor_maps`
/// (codegen/TmaLowering.cpp); runs before the conversion.
mlir::LogicalResult addTensorMapArguments(mlir::ModuleOp module,
                                          const TargetInfo &target);

/// print, through vprintf (codegen/PrintLowering.cpp).
void populatePrintLoweringPatterns(const mlir::TypeConverter &converter,
                                   mlir::RewritePatternSet &patterns);

} // namespace tilus

#endif // TILUS_CODEGEN_TILELOWERING_H
