//===- MmaInstructions.cpp - The mma.sync instruction table ---------------===//

#include "target/MmaInstructions.h"

#include <vector>

using namespace mlir;
using namespace tilus;

/// The mma.sync instructions dot selects from, by input and accumulator type.
static const std::vector<MmaInstruction> &mmaInstructions() {
  static const std::vector<MmaInstruction> table = [] {
    auto atom = [](const char *name) { return findLayoutAtom(name); };
    const LayoutAtom *f16a = atom("mma.m16n8k16.f16.a"),
                     *f16b = atom("mma.m16n8k16.f16.b"),
                     *bf16a = atom("mma.m16n8k16.bf16.a"),
                     *bf16b = atom("mma.m16n8k16.bf16.b"),
                     *f32c = atom("mma.m16n8k16.f32.c"),
                     *f16c = atom("mma.m16n8k16.f16.c"),
                     *s8a = atom("mma.m16n8k32.s8.a"),
                     *s8b = atom("mma.m16n8k32.s8.b"),
                     *s32c = atom("mma.m16n8k32.s32.c");
    // The u8 fragments are the s8 ones: the type changes only how the
    // bytes are read.
    return std::vector<MmaInstruction>{
        {"mma.m16n8k16", DType::f16(), DType::f32(), 16, 8, 16, f16a, f16b,
         f32c, "llvm.nvvm.mma.m16n8k16.row.col.f32.f32"},
        {"mma.m16n8k16", DType::bf16(), DType::f32(), 16, 8, 16, bf16a, bf16b,
         f32c, "llvm.nvvm.mma.m16n8k16.row.col.bf16"},
        {"mma.m16n8k16", DType::f16(), DType::f16(), 16, 8, 16, f16a, f16b,
         f16c, "llvm.nvvm.mma.m16n8k16.row.col.f16.f16"},
        {"mma.m16n8k32", DType::signedInt(8), DType::signedInt(32), 16, 8, 32,
         s8a, s8b, s32c, "llvm.nvvm.mma.m16n8k32.row.col.s8"},
        {"mma.m16n8k32", DType::unsignedInt(8), DType::signedInt(32), 16, 8, 32,
         s8a, s8b, s32c, "llvm.nvvm.mma.m16n8k32.row.col.u8"},
    };
  }();
  return table;
}

std::string MmaInstruction::describe() const {
  return name.str() + " " + input.name() + " x " + input.name() + " -> " +
         accumulator.name();
}

static std::string elementName(TileType tile) {
  if (std::optional<DType> dtype = getDType(tile.getElementType()))
    return dtype->name();
  std::string text;
  llvm::raw_string_ostream os(text);
  os << tile.getElementType();
  return text;
}

FailureOr<MmaInstruction> tilus::selectMmaInstruction(DotOp dot,
                                                      std::string &reason) {
  TileType a = dot.getA().getType(), c = dot.getC().getType();
  std::optional<DType> input = getDType(a.getElementType());
  std::optional<DType> accumulator = getDType(c.getElementType());
  const MmaInstruction *found = nullptr;
  for (const MmaInstruction &instruction : mmaInstructions())
    if (input && accumulator && instruction.input == *input &&
        instruction.accumulator == *accumulator)
      found = &instruction;
  if (!found) {
    reason = "no mma.sync multiplies " + elementName(a) + " x " +
             elementName(a) + " into " + elementName(c) +
             "; there are f16, bf16 into f32, f16 into f16, i8, u8 into i32";
    return failure();
  }
  if (!found->a || !found->b || !found->c) {
    reason = "the fragment atoms of " + found->describe() +
             " are missing from the catalog";
    return failure();
  }
  int64_t extents[3] = {c.getShape()[0], c.getShape()[1], a.getShape()[1]};
  int64_t tile[3] = {found->m, found->n, found->k};
  for (int d = 0; d < 3; ++d)
    if (extents[d] % tile[d] != 0) {
      reason = std::string(1, "MNK"[d]) + " = " + std::to_string(extents[d]) +
               " is not a multiple of " + std::to_string(tile[d]) + ", the " +
               std::string(1, "mnk"[d]) + " of " + found->describe();
      return failure();
    }
  return *found;
}
