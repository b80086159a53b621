//===- AtomTest.cpp - Atoms against the PTX ISA fragment tables -----------===//
//
// Each reference below is written from the formulas of the PTX ISA section
// the atom cites (groupID = laneid >> 2, threadID_in_group = laneid % 4), not
// from the layout expressions.
//
//===----------------------------------------------------------------------===//

#include "LayoutTestUtils.h"

#include "ir/layout/Atoms.h"

#include <gtest/gtest.h>

#include <functional>
#include <set>

using namespace tilus;

namespace {

using RowCol = std::pair<int64_t, int64_t>;

struct Reference {
  const char *name;
  int64_t rows, cols, locals;
  std::function<RowCol(int64_t lane, int64_t i)> element;
  int64_t threads = 32; ///< a warp, or a warpgroup (wgmma)
};

// 9.7.14.5.8: mma.m16n8k16, .f16/.bf16 A (a0..a7), B (b0..b3), C (c0..c3).
RowCol mmaF16A(int64_t lane, int64_t i) {
  int64_t groupID = lane >> 2, threadInGroup = lane % 4;
  int64_t row = (i < 2 || (4 <= i && i < 6)) ? groupID : groupID + 8;
  int64_t col = threadInGroup * 2 + (i & 0x1) + (i >= 4 ? 8 : 0);
  return {row, col};
}
RowCol mmaF16B(int64_t lane, int64_t i) {
  int64_t groupID = lane >> 2, threadInGroup = lane % 4;
  int64_t row = threadInGroup * 2 + (i & 0x1) + (i >= 2 ? 8 : 0);
  return {row, groupID};
}
RowCol mmaC(int64_t lane, int64_t i) {
  int64_t groupID = lane >> 2, threadInGroup = lane % 4;
  int64_t row = i < 2 ? groupID : groupID + 8;
  return {row, threadInGroup * 2 + (i & 0x1)};
}
// 9.7.14.5.10: mma.m16n8k32, .s8/.u8 A (a0..a15), B (b0..b7).
RowCol mmaS8A(int64_t lane, int64_t i) {
  int64_t groupID = lane >> 2, threadInGroup = lane % 4;
  int64_t row = (i < 4 || (8 <= i && i < 12)) ? groupID : groupID + 8;
  int64_t col = threadInGroup * 4 + (i & 0x3) + (i >= 8 ? 16 : 0);
  return {row, col};
}
RowCol mmaS8B(int64_t lane, int64_t i) {
  int64_t groupID = lane >> 2, threadInGroup = lane % 4;
  int64_t row = threadInGroup * 4 + (i & 0x3) + (i >= 4 ? 16 : 0);
  return {row, groupID};
}
// 9.7.14.5.15: ldmatrix .b16: lane t receives row t / 4, elements
// 2 * (t % 4) + {0, 1} of each 8x8 matrix (transposed with .trans);
// register k holds matrix k, placed as documented in Atoms.cpp.
std::function<RowCol(int64_t, int64_t)> ldmatrix(int matrices, bool trans) {
  return [=](int64_t lane, int64_t i) -> RowCol {
    int64_t k = i / 2, j = i % 2;
    int64_t r = lane / 4, c = 2 * (lane % 4) + j;
    if (trans)
      std::swap(r, c);
    int64_t rowBlock = matrices == 4 ? k % 2 : k;
    int64_t colBlock = matrices == 4 ? k / 2 : 0;
    return {rowBlock * 8 + r, colBlock * 8 + c};
  };
}

// 9.7.14.5.16: stmatrix .b16 (sm_90): lane t holds, in register k, the
// elements of row groupID, columns 2 * threadID_in_group + {0, 1} of matrix
// k; with .trans they are stored at column groupID, rows
// 2 * threadID_in_group + {0, 1}. Matrix k sits where ldmatrix puts it.
std::function<RowCol(int64_t, int64_t)> stmatrix(int matrices, bool trans) {
  return [=](int64_t lane, int64_t i) -> RowCol {
    int64_t groupID = lane >> 2, threadInGroup = lane % 4;
    int64_t k = i / 2;
    int64_t row = groupID, col = threadInGroup * 2 + (i & 0x1);
    if (trans)
      std::swap(row, col);
    int64_t rowBlock = matrices == 4 ? k % 2 : k;
    int64_t colBlock = matrices == 4 ? k / 2 : 0;
    return {8 * rowBlock + row, 8 * colBlock + col};
  };
}

// 9.7.15.5.1: wgmma .m64nNk16 (sm_90a), over the 128 threads of a
// warpgroup: thread t is lane t % 32 of warp t / 32, which holds rows
// 16 (t / 32) + groupID (+ 8); D holds d_i at column 8 (i >> 2) +
// 2 * threadID_in_group + (i & 1) for every 8 columns, A holds the a0..a7
// of mma.m16n8k16's A operand.
RowCol wgmmaD(int64_t t, int64_t i) {
  int64_t warp = t / 32, lane = t % 32;
  int64_t groupID = lane >> 2, threadInGroup = lane % 4;
  int64_t row = 16 * warp + groupID + 8 * ((i >> 1) & 1);
  return {row, 8 * (i >> 2) + 2 * threadInGroup + (i & 1)};
}
RowCol wgmmaA(int64_t t, int64_t i) {
  int64_t warp = t / 32, lane = t % 32;
  int64_t groupID = lane >> 2, threadInGroup = lane % 4;
  int64_t row = 16 * warp + groupID + 8 * ((i >> 1) & 1);
  return {row, 2 * threadInGroup + (i & 1) + 8 * (i >> 2)};
}

const std::vector<Reference> &references() {
  static const std::vector<Reference> refs = {
      {"mma.m16n8k16.f16.a", 16, 16, 8, mmaF16A},
      {"mma.m16n8k16.bf16.a", 16, 16, 8, mmaF16A},
      {"mma.m16n8k16.f16.b", 16, 8, 4, mmaF16B},
      {"mma.m16n8k16.bf16.b", 16, 8, 4, mmaF16B},
      {"mma.m16n8k16.f16.c", 16, 8, 4, mmaC},
      {"mma.m16n8k16.f32.c", 16, 8, 4, mmaC},
      {"mma.m16n8k32.s8.a", 16, 32, 16, mmaS8A},
      {"mma.m16n8k32.s8.b", 32, 8, 8, mmaS8B},
      {"mma.m16n8k32.s32.c", 16, 8, 4, mmaC},
      {"ldmatrix.x1.b16", 8, 8, 2, ldmatrix(1, false)},
      {"ldmatrix.x1.trans.b16", 8, 8, 2, ldmatrix(1, true)},
      {"ldmatrix.x2.b16", 16, 8, 4, ldmatrix(2, false)},
      {"ldmatrix.x2.trans.b16", 16, 8, 4, ldmatrix(2, true)},
      {"ldmatrix.x4.b16", 16, 16, 8, ldmatrix(4, false)},
      {"ldmatrix.x4.trans.b16", 16, 16, 8, ldmatrix(4, true)},
      {"stmatrix.x1.b16", 8, 8, 2, stmatrix(1, false)},
      {"stmatrix.x1.trans.b16", 8, 8, 2, stmatrix(1, true)},
      {"stmatrix.x2.b16", 16, 8, 4, stmatrix(2, false)},
      {"stmatrix.x2.trans.b16", 16, 8, 4, stmatrix(2, true)},
      {"stmatrix.x4.b16", 16, 16, 8, stmatrix(4, false)},
      {"stmatrix.x4.trans.b16", 16, 16, 8, stmatrix(4, true)},
      {"wgmma.m64n8k16.f32.d", 64, 8, 4, wgmmaD, 128},
      {"wgmma.m64n16k16.f32.d", 64, 16, 8, wgmmaD, 128},
      {"wgmma.m64n32k16.f32.d", 64, 32, 16, wgmmaD, 128},
      {"wgmma.m64n64k16.f32.d", 64, 64, 32, wgmmaD, 128},
      {"wgmma.m64n128k16.f32.d", 64, 128, 64, wgmmaD, 128},
      {"wgmma.m64n256k16.f32.d", 64, 256, 128, wgmmaD, 128},
      {"wgmma.m64n64k16.f16.d", 64, 64, 32, wgmmaD, 128},
      {"wgmma.m64k16.f16.a", 64, 16, 8, wgmmaA, 128},
      {"wgmma.m64k16.bf16.a", 64, 16, 8, wgmmaA, 128},
  };
  return refs;
}

TEST(Atoms, MatchThePtxFragmentTables) {
  for (const Reference &ref : references()) {
    SCOPED_TRACE(ref.name);
    const LayoutAtom *atom = findLayoutAtom(ref.name);
    ASSERT_NE(atom, nullptr);
    const RegisterLayout &l = atom->layout;
    ASSERT_EQ(l.shape(), (std::vector<int64_t>{ref.rows, ref.cols}));
    ASSERT_EQ(l.numThreads(), ref.threads);
    ASSERT_EQ(l.numLocals(), ref.locals);
    EXPECT_EQ(l.replication(), 1);
    std::set<RowCol> seen;
    for (int64_t lane = 0; lane < ref.threads; ++lane) {
      for (int64_t i = 0; i < ref.locals; ++i) {
        RowCol want = ref.element(lane, i);
        std::vector<int64_t> got = l.map(lane, i);
        EXPECT_EQ(got, (std::vector<int64_t>{want.first, want.second}))
            << "lane " << lane << " element " << i;
        seen.insert(want);
      }
    }
    // The reference itself covers the tile once.
    EXPECT_EQ(static_cast<int64_t>(seen.size()), ref.rows * ref.cols);
  }
}

TEST(Atoms, CatalogIsComplete) {
  EXPECT_EQ(layoutAtoms().size(), references().size());
  for (const LayoutAtom &atom : layoutAtoms()) {
    EXPECT_FALSE(atom.source.empty()) << atom.name;
    EXPECT_EQ(*parseRegisterLayout(atom.expression), atom.layout) << atom.name;
  }
  EXPECT_EQ(findLayoutAtom("mma.m16n8k8.f16.a"), nullptr);
}

TEST(Atoms, AccumulatorTilesDivideByTheAtom) {
  // A warp tile of 2x4 accumulators, repeated in each thread, divides by the
  // atom, and the quotient is the repetition.
  const RegisterLayout &c = findLayoutAtom("mma.m16n8k16.f32.c")->layout;
  RegisterLayout tile = layout::local({2, 4}) * c;
  EXPECT_EQ(*tile.divide(c), layout::local({2, 4}));
  RegisterLayout block = layout::spatial({2, 2}) * tile;
  EXPECT_EQ(*block.divide(c), layout::spatial({2, 2}).local({2, 4}));
  // The A operand is two accumulator tiles side by side in each thread; the
  // B operand is no tiling of it.
  EXPECT_EQ(*findLayoutAtom("mma.m16n8k16.f16.a")->layout.divide(c),
            layout::local({1, 2}));
  EXPECT_FALSE(findLayoutAtom("mma.m16n8k16.f16.b")->layout.divide(c));
}

} // namespace
