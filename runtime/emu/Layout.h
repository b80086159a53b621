//===- Layout.h - Per-kernel register frames and shared memory --*- C++ -*-===//
//
// A module's functions are parsed with module-wide numbering: register slots
// count up over all functions, and static shared variables are laid out one
// after the other over all kernels. A launch of one kernel needs only what
// that kernel reaches, so after parsing, layoutKernels renumbers and relocates:
//
// - Registers: a function's own slots start above the frames of everything
//   it calls (base(f) = max over callees g of base(g) + frame(g); leaves at
//   0), so a caller's registers never overlap a callee's, and a kernel's
//   frame is the most slots any call path from it uses. A warp's register
//   file has frame(kernel) slots, not the module's total.
// - Static shared memory: the variables a kernel's code refers to (directly or
//   through the functions it calls) are laid out from offset 0 in
//   declaration order; dynamic shared memory starts after them. Kernels that
//   share a variable, or call a common function that refers to shared memory,
//   must agree on its offset: they form one group and share one layout (the
//   union of their variables). A variable whose address is in a global
//   initializer keeps the module-wide layout for every kernel.
//
// Recursion makes no frame: it is a load error.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_RUNTIME_EMU_LAYOUT_H
#define TILUS_RUNTIME_EMU_LAYOUT_H

#include "runtime/emu/Program.h"

namespace tilus::emu::detail {

/// What the parser records for layoutKernels.
struct LayoutInput {
  struct SharedVar {
    uint64_t offset = 0; ///< In the module-wide layout.
    uint64_t size = 0;
    uint32_t align = 1;
  };
  std::vector<SharedVar> sharedVars;
  /// An instruction operand holding a shared address: the module-wide offset
  /// of variable \c var plus a constant, or (var < 0) an offset into dynamic
  /// shared memory, to which the dynamic base is added.
  struct Fixup {
    uint32_t pc;
    int operand;
    int32_t var;
  };
  std::vector<Fixup> fixups;
  /// A shared variable's address is in a global initializer.
  bool pinned = false;
  /// Alignment of the dynamic shared memory base.
  uint32_t dynAlign = 16;
  /// For messages: the module's name.
  std::string name;
};

/// Sets each function's register frame (Function::regBase, regFrame) and
/// each kernel's static shared bytes (Function::staticShared), renumbering
/// register operands and relocating shared addresses in \p mod.code. Function
/// f's registers are [f.regBase, f.regBase + f.ownRegs) in the module-wide
/// numbering on entry.
Status layoutKernels(ModuleImpl &mod, const LayoutInput &in);

} // namespace tilus::emu::detail

#endif // TILUS_RUNTIME_EMU_LAYOUT_H
