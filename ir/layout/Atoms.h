//===- Atoms.h - PTX instruction fragments as register layouts --*- C++ -*-===//
//
// The register fragments of warp-level PTX instructions, written as layouts
// over the instruction's operand tile. The local index of an atom is the
// element's position in the instruction's fragment (a0..a7 for the f16 A
// operand of mma.m16n8k16), the thread index the lane. Instruction selection
// asks whether a tensor layout divides by an atom.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_IR_LAYOUT_ATOMS_H
#define TILUS_IR_LAYOUT_ATOMS_H

#include "ir/layout/RegisterLayout.h"

#include <string>
#include <string_view>
#include <vector>

namespace tilus {

struct LayoutAtom {
  /// Catalog name, e.g. `mma.m16n8k16.f16.a`.
  std::string name;
  /// The layout expression it is built from, in the text syntax.
  std::string expression;
  RegisterLayout layout;
  /// What the tile is (operand, rows x cols).
  std::string description;
  /// The PTX ISA section defining the fragment.
  std::string source;
};

/// Every atom, in catalog order.
const std::vector<LayoutAtom> &layoutAtoms();

/// The atom named `name`, or null.
const LayoutAtom *findLayoutAtom(std::string_view name);

} // namespace tilus

#endif // TILUS_IR_LAYOUT_ATOMS_H
