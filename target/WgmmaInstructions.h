//===- WgmmaInstructions.h - wgmma.mma_async on shared tiles ----*- C++ -*-===//
//
// The sm_90a warpgroup matrix multiply as `dot` uses it: both operands read
// from shared memory through matrix descriptors, the accumulator in the
// registers of a warpgroup (four consecutive warps). Layout inference
// (passes/InferLayouts.cpp) plans it to choose the accumulator layout; the
// lowering (codegen/WgmmaLowering.cpp) plans it again from the layouts the
// IR carries and emits the descriptors and instructions the plan lists.
//
// Accumulator: one m64nNk16 instruction covers a 64 x N tile. Warp w % 4 of
// the warpgroup holds rows 16 (w % 4) .. 16 (w % 4) + 15; inside a warp,
// register i of lane l is row l / 4 + 8 ((i / 2) % 2), column 8 (i / 4) +
// 2 (l % 4) + i % 2 (PTX ISA 9.7.15.5.1, "Matrix fragments for
// wgmma.mma_async", the figure "wgmma-64N16-D"): the m16n8 C fragment
// repeated over N / 8 column blocks. As a layout:
//
//   wgmma(N) = spatial(4, 1).local(1, N / 8) * local(2, 1).spatial(8,
//   4).local(1, 2)
//
// A dot's accumulator is spatial(gm, gn).local(rm, rn) * wgmma(N), possibly
// replicated over warpgroups: gm x gn warpgroups split M x N, each issuing
// rm x rn instructions per 16-deep k-step.
//
// Operands: A (M x K) and B (K x N) must both be K-major in shared memory
// (the transpose immediates are 0): for A, row m holds its K elements, for
// B, column n holds its K elements (the tile [K, N] stored column-major, or
// b = transpose(load_shared(s)) of an [N, K] tile s stored row-major).
// Each instruction's operand is a tile of R rows (64 of A, N of B) by 16
// elements of K; byte b of row r of it must lie at one of the canonical
// placements a descriptor describes (start, LBO, SBO in bytes):
//
//   no swizzle:    start + (r / 8) SBO + (r % 8) 16 + (b / 16) LBO + b % 16
//   S-byte swizzle (S = 128, 64, 32):
//                  a = start + (r / 8) SBO + (r % 8) S + b, with bits 4..
//                  of a XORed with bits 7.. of a (log2(S / 16) bits)
//
// The swizzle acts on the shared-memory address, so a swizzled tensor must
// start on a multiple of 8 S bytes: the swizzle span of its shared layout,
// to which shared-memory planning aligns it. Rather than recognise layouts
// by their modes, the plan checks the definition: every element of every
// instruction's operand tile is at the address its descriptor gives.
// Row-major A of 16, 32 or 64 f16 per row swizzled by Swizzle(1|2|3, 3, 3)
// (the bank-conflict-free swizzles of docs/layouts.md) and column-major B of
// the same K swizzled the same way are the usual forms.
//
// A from registers: when a is no `load_shared` (nor its transpose) but a
// register tile (a cast, a product, a dequantisation), the plan takes A
// from registers and only b needs a descriptor. Warp w % 4 of the warpgroup
// holds rows 16 (w % 4) .. + 15 of each instruction's 64 x 16 A tile as the
// mma.m16n8k16 A fragment (PTX ISA "wgmma-64N16-A"), four b32 registers of
// two f16/bf16 each:
//
//   wgmmaA = spatial(4, 1) * column_local(2, 2).spatial(8, 4).local(1, 2)
//
// (the atom wgmma.m64k16.f16.a), and a's layout is the accumulator's
// warpgroup tiling reduced over N, times local(1, kSteps), times wgmmaA: each
// warpgroup holds the rows of its instruction tiles, all of K.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_TARGET_WGMMAINSTRUCTIONS_H
#define TILUS_TARGET_WGMMAINSTRUCTIONS_H

#include "ir/dialect/Tilus.h"
#include "target/TargetInfo.h"

#include "mlir/Support/LogicalResult.h"

#include <optional>
#include <string>
#include <vector>

namespace tilus {

/// Threads of a warpgroup: four consecutive warps.
inline constexpr int64_t kWarpgroupThreads = 4 * kWarpSize;

/// The accumulator fragment of wgmma.mma_async.m64nNk16 (see the file
/// comment) as a layout over a 64 x n tile and 128 threads.
RegisterLayout wgmmaAccumulatorAtom(int64_t n);

/// The A fragment of wgmma.mma_async.m64nNk16 from registers (f16 or
/// bf16), as a layout over a 64 x 16 tile and 128 threads: locals 2j, 2j + 1
/// are register aj.
RegisterLayout wgmmaOperandAAtom();

/// A matrix descriptor's fields, in bytes; `start` is relative to the
/// shared tensor's base address. `swizzle` is 0 (none), 32, 64 or 128.
struct WgmmaDescriptor {
  int64_t start = 0, leadingBytes = 0, strideBytes = 0, swizzle = 0;

  /// The 64-bit descriptor for a tensor at shared address 0; the lowering
  /// adds the tensor's address >> 4 to it (bits 0-13).
  uint64_t encode() const;
  /// "128-byte swizzle", "no swizzle (LBO 128, SBO 256)", for remarks.
  std::string describe() const;
};

/// The instructions one dot issues.
struct WgmmaPlan {
  DType input = DType::f16(), accumulator = DType::f32();
  /// The instruction's N (a multiple of 8 up to 256); M = 64, K = 16.
  int64_t n = 0;
  /// The accumulator layout the plan is for.
  RegisterLayout layout;
  /// The accumulator divided by wgmmaAccumulatorAtom(n): thread =
  /// warpgroup, local = which of its instruction tiles.
  RegisterLayout quotient;
  int64_t kSteps = 0;
  /// Descriptors of warpgroup 0: a[i][k], b[i][k] for its tile i (quotient
  /// local) and k-step k.
  std::vector<std::vector<WgmmaDescriptor>> a, b;
  /// Byte offsets added to every start address of warpgroup g, for A and B.
  std::vector<int64_t> aDelta, bDelta;
  /// A from registers: `a` and `aDelta` are empty, a must have the layout
  /// `aLayout`, and aLocals[i][s] lists the 8 local indices (in the order of
  /// wgmmaOperandAAtom's locals: registers a0..a3, two halves each) that
  /// hold tile i's A fragment for k-step s, the same in every thread.
  bool aFromRegisters = false;
  RegisterLayout aLayout;
  std::vector<std::vector<std::vector<int64_t>>> aLocals;

  /// "wgmma.m64n64k16 f16 x f16 -> f32".
  std::string describe() const;
};

/// Plans `dot` as wgmma.mma_async for a kernel of `numWarps` warps on
/// `target`: its element types (f16 or bf16 into f32, f16 into f16), K a
/// multiple of 16, b a `load_shared` result (or its transpose) at constant
/// offsets whose shared layout places every instruction's operand
/// canonically, and a the same, or else any register tile (A from
/// registers). With
/// `accumulator`, the plan is for that layout (it must divide by a wgmma
/// atom over the warpgroups); without, the plan chooses the layout. On
/// failure `reason` says which rule failed.
mlir::FailureOr<WgmmaPlan>
planWgmma(DotOp dot, const TargetInfo &target, int64_t numWarps,
          const std::optional<RegisterLayout> &accumulator,
          std::string &reason);

/// Where a wgmma operand comes from: a `load_shared`, directly or through
/// a `transpose` (b = transpose(load_shared(s)) of a row-major [N, K] tile
/// is K-major).
struct WgmmaOperand {
  LoadSharedOp load;
  bool transposed;
};

/// The wgmma source of the dot operand `value`, if it has one.
std::optional<WgmmaOperand> getWgmmaOperand(mlir::Value value);

/// The attribute layout inference puts on a dot it plans as wgmma; the
/// lowering emits wgmma for exactly these dots.
inline constexpr llvm::StringLiteral kWgmmaAttr = "tilus.wgmma";

} // namespace tilus

#endif // TILUS_TARGET_WGMMAINSTRUCTIONS_H
