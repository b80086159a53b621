//===- WgmmaTest.cpp - The wgmma accumulator atom and descriptors ---------===//
//
// The definitions, checked element by element: the accumulator layout is the
// PTX ISA's D fragment of wgmma.mma_async.m64nNk16 (the formula the emulator
// implements, runtime/emu/WgmmaOps.cpp) for every N, and a descriptor's
// fields land at the bit positions the emulator decodes.
//
//===----------------------------------------------------------------------===//

#include "target/WgmmaInstructions.h"

#include "ir/layout/Atoms.h"

#include <gtest/gtest.h>

using namespace tilus;

TEST(WgmmaTest, AccumulatorAtomIsTheIsaFragment) {
  for (int64_t n = 8; n <= 256; n += 8) {
    RegisterLayout atom = wgmmaAccumulatorAtom(n);
    ASSERT_EQ(atom.shape(), (std::vector<int64_t>{64, n}));
    ASSERT_EQ(atom.numThreads(), 128);
    ASSERT_EQ(atom.numLocals(), n / 2);
    for (int64_t thread = 0; thread < 128; ++thread)
      for (int64_t i = 0; i < n / 2; ++i) {
        int64_t w = thread / 32, l = thread % 32;
        std::vector<int64_t> want = {16 * w + l / 4 + 8 * ((i / 2) % 2),
                                     8 * (i / 4) + 2 * (l % 4) + i % 2};
        ASSERT_EQ(atom.map(thread, i), want)
            << "n " << n << ", thread " << thread << ", register " << i;
      }
  }
}

// The atoms the catalog pictures (tilus-layout --atom) are the accumulator
// layout the compiler tiles by.
TEST(WgmmaTest, CatalogAtomsAreTheAccumulatorAtom) {
  for (int64_t n : {8, 16, 32, 64, 128, 256}) {
    const LayoutAtom *atom = findLayoutAtom(
        "wgmma.m64n" + std::to_string(n) + "k16.f32.d");
    ASSERT_NE(atom, nullptr) << n;
    EXPECT_EQ(atom->layout, wgmmaAccumulatorAtom(n)) << n;
  }
  EXPECT_EQ(findLayoutAtom("wgmma.m64n64k16.f16.d")->layout,
            wgmmaAccumulatorAtom(64));
}

// The A fragment from registers is the PTX ISA's (figure wgmma-64N16-A):
// register j of lane l of warp w holds row 16 w + l / 4 + 8 (j % 2),
// columns 2 (l % 4) + 8 (j / 2) + {0, 1}, in locals 2j, 2j + 1; and it is the
// catalog's atom for f16 and bf16.
TEST(WgmmaTest, OperandAAtomIsTheIsaFragment) {
  RegisterLayout atom = wgmmaOperandAAtom();
  ASSERT_EQ(atom.shape(), (std::vector<int64_t>{64, 16}));
  ASSERT_EQ(atom.numThreads(), 128);
  ASSERT_EQ(atom.numLocals(), 8);
  for (int64_t thread = 0; thread < 128; ++thread)
    for (int64_t i = 0; i < 8; ++i) {
      int64_t w = thread / 32, l = thread % 32, j = i / 2;
      std::vector<int64_t> want = {16 * w + l / 4 + 8 * (j % 2),
                                   2 * (l % 4) + 8 * (j / 2) + i % 2};
      ASSERT_EQ(atom.map(thread, i), want)
          << "thread " << thread << ", local " << i;
    }
  for (const char *name : {"wgmma.m64k16.f16.a", "wgmma.m64k16.bf16.a"}) {
    const LayoutAtom *catalog = findLayoutAtom(name);
    ASSERT_NE(catalog, nullptr) << name;
    EXPECT_EQ(catalog->layout, atom) << name;
  }
}

TEST(WgmmaTest, DescriptorFields) {
  struct Case {
    WgmmaDescriptor d;
    uint32_t layout;
  };
  for (Case c : {Case{{1024, 16, 1024, 128}, 1}, Case{{32, 16, 512, 64}, 2},
                 Case{{4096 + 64, 16, 256, 32}, 3},
                 Case{{2048, 128, 512, 0}, 0}}) {
    uint64_t bits = c.d.encode();
    // The emulator's decoding (runtime/emu/WgmmaOps.cpp, wgmmaOperand).
    EXPECT_EQ(uint32_t(bits & 0x3fff) << 4, c.d.start);
    EXPECT_EQ(uint32_t(bits >> 16 & 0x3fff) << 4, c.d.leadingBytes);
    EXPECT_EQ(uint32_t(bits >> 32 & 0x3fff) << 4, c.d.strideBytes);
    EXPECT_EQ(unsigned(bits >> 49 & 7), 0u);
    EXPECT_EQ(unsigned(bits >> 62), c.layout);
  }
}
