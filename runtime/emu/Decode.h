//===- Decode.h - Decoding PTX instructions, family by family ---*- C++ -*-===//
//
// The parser reads an instruction's guard, mnemonic, modifiers and operands;
// the mnemonic's family (one per *Ops.cpp file, next to its executor) decodes
// the rest. A modifier is read as the first that matches of:
//
//   1. a type, a state space, a rounding mode, .v2/.v4/.x1/.x2/.x4, or a
//      modifier that sets a flag on any instruction (.sat, .ftz, .sync, ...);
//   2. a modifier of the family's instructions (Family::modifier), which may
//      change the op within the family (wmma.load, cp.async.wait_group);
//   3. a cache or memory-ordering qualifier, which has no effect;
//
// anything else is rejected. Once every modifier is read and the operand
// kinds are checked, Family::check checks the form of the instruction (its
// types, operands and modifiers together) and fills the remaining fields.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_RUNTIME_EMU_DECODE_H
#define TILUS_RUNTIME_EMU_DECODE_H

#include "runtime/emu/Program.h"

#include <string>
#include <string_view>
#include <vector>

namespace tilus::emu::decode {

/// An instruction whose operands are read and whose modifiers are being
/// decoded.
struct Decoding {
  Instr &ins;
  /// The opcode as written ("ld.global.v4.f32"), for messages.
  std::string_view full;
  const std::vector<std::string_view> &mods;
  /// The declared type of every register slot.
  const std::vector<Type> &regTypes;
  /// The module's name and the instruction's line, for messages.
  const std::string &module;
  uint32_t line;
  /// The type modifiers, in order.
  std::vector<Type> types;
  /// A setp/set comparison was read.
  bool sawCmp = false;

  /// Type modifier \p i, or Type::None.
  Type type(size_t i) const { return i < types.size() ? types[i] : Type::None; }
  Status error(const std::string &m) const {
    return Status::error(module + ":" + std::to_string(line) + ": " + m);
  }
  /// Success if \p cond, else the error "unsupported form of ...: what".
  Status need(bool cond, const std::string &what) const {
    if (cond)
      return Status::success();
    return error("unsupported form of '" + std::string(full) + "': " + what);
  }
  /// Immediates written as decimal floats take the type \p ty.
  void fixDoubleLiterals(Type ty);
  /// The instruction needs a type; its float literals take it.
  Status typed();
};

/// A mnemonic: the op it decodes to (before modifiers change it), its number
/// of operands and the flags it implies.
struct Mnemonic {
  std::string_view name;
  Op op;
  uint8_t minOps, maxOps;
  uint32_t flags = 0;
};

/// How one family of instructions is decoded.
struct Family {
  std::vector<Mnemonic> mnemonics;
  /// Takes \p m if it is a modifier of the instruction's family; false if
  /// it is not one.
  bool (*modifier)(Decoding &d, std::string_view m);
  /// Checks the decoded instruction and fills the fields that depend on
  /// more than one modifier.
  Status (*check)(Decoding &d);
};

const Family &intFamily();     ///< IntOps.cpp
const Family &floatFamily();   ///< FloatOps.cpp
const Family &memoryFamily();  ///< MemoryOps.cpp
const Family &warpFamily();    ///< WarpOps.cpp
const Family &tensorFamily();  ///< TensorOps.cpp
const Family &controlFamily(); ///< ControlOps.cpp
const Family &mbarrierFamily(); ///< AsyncOps.cpp
const Family &wgmmaFamily();    ///< WgmmaOps.cpp

/// cp.async.bulk, read by the memory family (its mnemonic is cp) and decoded
/// in AsyncOps.cpp: a modifier of the bulk copies, and their check.
bool bulkModifier(Decoding &d, std::string_view m);
Status checkBulk(Decoding &d);
inline bool isBulk(Op op) {
  return op == Op::CpBulk || op == Op::CpBulkTensor || op == Op::CpBulkCommit ||
         op == Op::CpBulkWait || op == Op::CpBulkPrefetch;
}

/// The reduction of atom, red, redux and bar.red (.add, .min, ... .popc).
bool reductionByName(std::string_view m, Sub &sub);

inline bool isWmma(Op op) {
  return op == Op::WmmaLoad || op == Op::WmmaStore || op == Op::WmmaMma;
}

} // namespace tilus::emu::decode

#endif // TILUS_RUNTIME_EMU_DECODE_H
