//===- Layout.h - Per-kernel register frames and shared memory --*- C++ -*-===//
//
// A module's functions are parsed with module-wide numbering: register slots
// and per-thread local storage count up over all functions, and static shared
// variables are laid out one after the other over all kernels. A launch of one
// kernel needs only what that kernel reaches, so after parsing, layoutKernels
// renumbers and relocates:
//
// - Registers: a function's own slots start above the frames of everything
//   it calls (base(f) = the largest frame(g) over its callees g, leaves at 0;
//   frame(f) = base(f) + f's own slots), so a caller's registers never
//   overlap a callee's, and a kernel's frame is the most slots any call path
//   from it uses. A warp's register
//   file has frame(kernel) slots, not the module's total.
// - Static shared memory: the variables a kernel's code refers to (directly or
//   through the functions it calls) are laid out from offset 0 in
//   declaration order; dynamic shared memory starts after them. Kernels that
//   share a variable, or call a common function that refers to shared memory,
//   must agree on its offset: they form one group and share one layout (the
//   union of their variables). A variable whose address is in a global
//   initializer keeps the module-wide layout for every kernel.
//
// - Local memory: the same as registers, in bytes: a function's per-thread
//   storage (.local variables, call-scope .param variables, a .func's
//   parameters and return values) sits above the frames of its callees, and
//   each thread of a launch has the kernel's frame.
//
// Recursion makes no frame: it is a load error.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_RUNTIME_EMU_LAYOUT_H
#define TILUS_RUNTIME_EMU_LAYOUT_H

#include "runtime/emu/Program.h"

#include <map>

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

  /// Per-thread (local) storage: a function's .local variables, the .param
  /// variables of its call scopes, and (for a .func) its parameters and
  /// return values, each at a module-wide offset.
  struct LocalPiece {
    uint32_t owner; ///< Function index.
    uint64_t offset = 0, size = 0;
    uint32_t align = 1;
  };
  std::vector<LocalPiece> localPieces;
  /// Operands holding a piece's offset (plus a constant).
  std::vector<Fixup> localFixups;
  /// Per call (ModuleImpl::calls): the pieces of its result and argument
  /// slots (-1 where a slot is not a piece).
  struct CallPieces {
    std::vector<int32_t> rets, args;
  };
  std::vector<CallPieces> callPieces;
  /// Per .func (by function index): the pieces of its parameters and return
  /// values.
  struct FuncPieces {
    std::vector<int32_t> params, rets;
  };
  std::map<uint32_t, FuncPieces> funcPieces;
  /// Alignment of the dynamic shared memory base.
  uint32_t dynAlign = 16;
  /// For messages: the module's name.
  std::string name;
};

/// Sets each function's register frame (Function::regBase, regFrame), local
/// frame (Function::localFrame) and each kernel's static shared bytes
/// (Function::staticShared), renumbering register operands and relocating
/// shared and local addresses in \p mod.code, the calls' slots and the
/// functions' parameter offsets. Function f's registers are [f.regBase,
/// f.regBase + f.ownRegs) in the module-wide numbering on entry.
Status layoutKernels(ModuleImpl &mod, const LayoutInput &in);

} // namespace tilus::emu::detail

#endif // TILUS_RUNTIME_EMU_LAYOUT_H
