//===- Atoms.cpp - PTX instruction fragments as register layouts ----------===//
//
// Sections refer to the PTX ISA (version 9.x numbering):
//   9.7.14.5.8  Matrix Fragments for mma.m16n8k16 with floating point type
//   9.7.14.5.10 Matrix Fragments for mma.m16n8k32 (integer types)
//   9.7.14.5.15 Warp-level matrix load instruction: ldmatrix
//   9.7.14.5.16 Warp-level matrix store instruction: stmatrix (sm_90)
//   9.7.15.5.1  wgmma register fragments (sm_90a): the accumulator D and the
//               register A operand of .m64nNk16, over a warpgroup
// With groupID = lane >> 2 and threadID_in_group = lane % 4, e.g. the f16 A
// operand holds a_i at row groupID + 8 * ((i >> 1) & 1) and column
// 2 * threadID_in_group + (i & 1) + 8 * (i >> 2).
//
// ldmatrix with several matrices places register k's 8x8 matrix as follows:
// .x2 stacks the two matrices vertically (a 16x8 tile), .x4 places matrix k
// at row block k % 2 and column block k / 2 (a 16x16 tile, the order of the
// mma.m16n8k16 A operand). `.trans` transposes each 8x8 matrix: lane t then
// receives the elements (2 * (t % 4) + j, t / 4) of the stored matrix.
//
// stmatrix is the inverse: its source fragment is the ldmatrix fragment of
// the same .num and .trans (lane t holds row t / 4, elements 2 * (t % 4) +
// {0, 1} of each matrix, register k matrix k), and lanes 8k .. 8k + 7 give
// the row addresses of matrix k, as for ldmatrix. Its atoms therefore have
// the ldmatrix layouts and tiles.
//
// wgmma's fragments span the 128 threads of a warpgroup: warp w % 4 holds
// rows 16 w .. 16 w + 15 of the 64-row tile, each warp in the mma.m16n8k16
// fragment of its 16 rows (D: the accumulator's c0..c3 repeated for every
// 8 columns, d_i at column 8 (i >> 2) + 2 * threadID_in_group + (i & 1);
// A: the A operand's a0..a7).
//
//===----------------------------------------------------------------------===//

#include "ir/layout/Atoms.h"

#include <cassert>

using namespace tilus;

namespace {

constexpr const char *kMmaF16 =
    "PTX ISA 9.7.14.5.8, Matrix Fragments for mma.m16n8k16 with floating "
    "point type";
constexpr const char *kMmaS8 =
    "PTX ISA 9.7.14.5.10, Matrix Fragments for mma.m16n8k32 (integer type)";
constexpr const char *kLdmatrix =
    "PTX ISA 9.7.14.5.15, Warp-level matrix load instruction: ldmatrix";
constexpr const char *kStmatrix =
    "PTX ISA 9.7.14.5.16, Warp-level matrix store instruction: stmatrix";
constexpr const char *kWgmma =
    "PTX ISA 9.7.15.5.1, wgmma register fragments: matrix D and matrix A of "
    ".m64nNk16";

std::vector<LayoutAtom> buildAtoms() {
  struct Entry {
    const char *name, *expression, *description, *source;
  };
  static const Entry entries[] = {
      {"mma.m16n8k16.f16.a", "column_local(2,2).spatial(8,4).local(1,2)",
       "A operand, 16x16 (m x k), f16, a0..a7", kMmaF16},
      {"mma.m16n8k16.f16.b", "local(2,1).column_spatial(4,8).local(2,1)",
       "B operand, 16x8 (k x n), f16, b0..b3", kMmaF16},
      {"mma.m16n8k16.f16.c", "local(2,1).spatial(8,4).local(1,2)",
       "C/D accumulator, 16x8 (m x n), f16, c0..c3", kMmaF16},
      {"mma.m16n8k16.f32.c", "local(2,1).spatial(8,4).local(1,2)",
       "C/D accumulator, 16x8 (m x n), f32, c0..c3", kMmaF16},
      {"mma.m16n8k16.bf16.a", "column_local(2,2).spatial(8,4).local(1,2)",
       "A operand, 16x16 (m x k), bf16, a0..a7", kMmaF16},
      {"mma.m16n8k16.bf16.b", "local(2,1).column_spatial(4,8).local(2,1)",
       "B operand, 16x8 (k x n), bf16, b0..b3", kMmaF16},
      {"mma.m16n8k32.s8.a", "column_local(2,2).spatial(8,4).local(1,4)",
       "A operand, 16x32 (m x k), s8/u8, a0..a15", kMmaS8},
      {"mma.m16n8k32.s8.b", "local(2,1).column_spatial(4,8).local(4,1)",
       "B operand, 32x8 (k x n), s8/u8, b0..b7", kMmaS8},
      {"mma.m16n8k32.s32.c", "local(2,1).spatial(8,4).local(1,2)",
       "C/D accumulator, 16x8 (m x n), s32, c0..c3", kMmaS8},
      {"ldmatrix.x1.b16", "spatial(8,4).local(1,2)",
       "one 8x8 matrix of 16-bit elements, r0", kLdmatrix},
      {"ldmatrix.x1.trans.b16", "column_spatial(4,8).local(2,1)",
       "one 8x8 matrix of 16-bit elements, transposed, r0", kLdmatrix},
      {"ldmatrix.x2.b16", "local(2,1).spatial(8,4).local(1,2)",
       "two 8x8 matrices stacked vertically (16x8), r0..r1", kLdmatrix},
      {"ldmatrix.x2.trans.b16", "local(2,1).column_spatial(4,8).local(2,1)",
       "two 8x8 matrices stacked vertically (16x8), transposed, r0..r1",
       kLdmatrix},
      {"ldmatrix.x4.b16", "column_local(2,2).spatial(8,4).local(1,2)",
       "four 8x8 matrices, matrix k at block (k%2, k/2) (16x16), r0..r3",
       kLdmatrix},
      {"ldmatrix.x4.trans.b16",
       "column_local(2,2).column_spatial(4,8).local(2,1)",
       "four 8x8 matrices, matrix k at block (k%2, k/2) (16x16), transposed, "
       "r0..r3",
       kLdmatrix},
      {"stmatrix.x1.b16", "spatial(8,4).local(1,2)",
       "one 8x8 matrix of 16-bit elements, r0", kStmatrix},
      {"stmatrix.x1.trans.b16", "column_spatial(4,8).local(2,1)",
       "one 8x8 matrix of 16-bit elements, transposed, r0", kStmatrix},
      {"stmatrix.x2.b16", "local(2,1).spatial(8,4).local(1,2)",
       "two 8x8 matrices stacked vertically (16x8), r0..r1", kStmatrix},
      {"stmatrix.x2.trans.b16", "local(2,1).column_spatial(4,8).local(2,1)",
       "two 8x8 matrices stacked vertically (16x8), transposed, r0..r1",
       kStmatrix},
      {"stmatrix.x4.b16", "column_local(2,2).spatial(8,4).local(1,2)",
       "four 8x8 matrices, matrix k at block (k%2, k/2) (16x16), r0..r3",
       kStmatrix},
      {"stmatrix.x4.trans.b16",
       "column_local(2,2).column_spatial(4,8).local(2,1)",
       "four 8x8 matrices, matrix k at block (k%2, k/2) (16x16), transposed, "
       "r0..r3",
       kStmatrix},
      {"wgmma.m64n8k16.f32.d",
       "spatial(4,1).local(1,1) * local(2,1).spatial(8,4).local(1,2)",
       "D accumulator, 64x8 (m x n), f32, over a warpgroup, d0..d3", kWgmma},
      {"wgmma.m64n16k16.f32.d",
       "spatial(4,1).local(1,2) * local(2,1).spatial(8,4).local(1,2)",
       "D accumulator, 64x16, f32, over a warpgroup, d0..d7", kWgmma},
      {"wgmma.m64n32k16.f32.d",
       "spatial(4,1).local(1,4) * local(2,1).spatial(8,4).local(1,2)",
       "D accumulator, 64x32, f32, over a warpgroup, d0..d15", kWgmma},
      {"wgmma.m64n64k16.f32.d",
       "spatial(4,1).local(1,8) * local(2,1).spatial(8,4).local(1,2)",
       "D accumulator, 64x64, f32, over a warpgroup, d0..d31", kWgmma},
      {"wgmma.m64n128k16.f32.d",
       "spatial(4,1).local(1,16) * local(2,1).spatial(8,4).local(1,2)",
       "D accumulator, 64x128, f32, over a warpgroup, d0..d63", kWgmma},
      {"wgmma.m64n256k16.f32.d",
       "spatial(4,1).local(1,32) * local(2,1).spatial(8,4).local(1,2)",
       "D accumulator, 64x256, f32, over a warpgroup, d0..d127", kWgmma},
      {"wgmma.m64n64k16.f16.d",
       "spatial(4,1).local(1,8) * local(2,1).spatial(8,4).local(1,2)",
       "D accumulator, 64x64, f16 (two per register), over a warpgroup, "
       "d0..d31",
       kWgmma},
      {"wgmma.m64k16.f16.a",
       "spatial(4,1) * column_local(2,2).spatial(8,4).local(1,2)",
       "A operand from registers, 64x16 (m x k), f16, over a warpgroup, "
       "a0..a7",
       kWgmma},
      {"wgmma.m64k16.bf16.a",
       "spatial(4,1) * column_local(2,2).spatial(8,4).local(1,2)",
       "A operand from registers, 64x16 (m x k), bf16, over a warpgroup, "
       "a0..a7",
       kWgmma},
  };
  std::vector<LayoutAtom> atoms;
  for (const Entry &e : entries) {
    LayoutResult<RegisterLayout> layout = parseRegisterLayout(e.expression);
    assert(layout && "atom expressions are valid");
    atoms.push_back(
        LayoutAtom{e.name, e.expression, *layout, e.description, e.source});
  }
  return atoms;
}

} // namespace

const std::vector<LayoutAtom> &tilus::layoutAtoms() {
  static const std::vector<LayoutAtom> atoms = buildAtoms();
  return atoms;
}

const LayoutAtom *tilus::findLayoutAtom(std::string_view name) {
  for (const LayoutAtom &atom : layoutAtoms())
    if (atom.name == name)
      return &atom;
  return nullptr;
}
