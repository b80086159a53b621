//===- Program.h - The decoded form of a PTX module -------------*- C++ -*-===//
//
// The parser turns PTX text into this compact form once, at load time: every
// operand is a register slot, an immediate, a special register or a resolved
// address, every modifier an enum. The executor never looks at a string.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_RUNTIME_EMU_PROGRAM_H
#define TILUS_RUNTIME_EMU_PROGRAM_H

#include "runtime/emu/Emulator.h"

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tilus::emu {

// Address windows of the emulated generic address space. Shared and local
// state-space addresses are offsets; generic = window + offset.
constexpr uint64_t kSharedWindow = 0x0000010000000000ull;
constexpr uint64_t kLocalWindow = 0x0000020000000000ull;
constexpr uint64_t kParamWindow = 0x0000030000000000ull;
constexpr uint64_t kWindowSize = 0x0000000100000000ull;
constexpr uint64_t kGlobalBase = 0x0000040000000000ull;
/// Param state-space addresses of kernel parameters start here; smaller param
/// addresses are per-thread call scratch, kept in local memory.
constexpr uint64_t kKernelParamBase = 0x80000000ull;

enum class Op : uint8_t {
  Nop,
  Mov,
  Ld,
  St,
  Cvta,
  CvtaTo,
  Cvt,
  Add,
  Sub,
  Mul,
  Mad,
  Fma,
  Div,
  Rem,
  Min,
  Max,
  Abs,
  Neg,
  And,
  Or,
  Xor,
  Not,
  Cnot,
  Shl,
  Shr,
  Shf,
  Bfe,
  Bfi,
  Lop3,
  Prmt,
  Popc,
  Clz,
  Brev,
  Bfind,
  Dp4a,
  Sad,
  Createpolicy,
  WmmaLoad,
  WmmaStore,
  WmmaMma,
  Stmatrix,
  Setp,
  Selp,
  Set,
  Copysign,
  Testp,
  Bra,
  Ret,
  Exit,
  Call,
  Bar,
  BarWarp,
  Membar,
  CpAsync,
  CpAsyncCommit,
  CpAsyncWait,
  Ldmatrix,
  Mma,
  Shfl,
  Vote,
  Redux,
  Match,
  Activemask,
  Atom,
  Red,
  Ex2,
  Lg2,
  Rcp,
  Rsqrt,
  Sqrt,
  Sin,
  Cos,
  Tanh,
  Trap,
  Mbarrier,       ///< mbarrier.*: the operation is Instr::sub
  CpBulk,         ///< cp.async.bulk global <-> shared
  CpBulkTensor,   ///< cp.async.bulk.tensor.Nd global -> shared
  CpBulkCommit,   ///< cp.async.bulk.commit_group
  CpBulkWait,     ///< cp.async.bulk.wait_group[.read]
  CpBulkPrefetch, ///< cp.async.bulk.prefetch[.tensor] (no effect)
  Elect,
  Setmaxnreg,
  Wgmma,       ///< wgmma.mma_async
  WgmmaFence,  ///< wgmma.fence
  WgmmaCommit, ///< wgmma.commit_group
  WgmmaWait,   ///< wgmma.wait_group
};

enum class Type : uint8_t {
  None,
  B8,
  B16,
  B32,
  B64,
  B128,
  U8,
  U16,
  U32,
  U64,
  S8,
  S16,
  S32,
  S64,
  F16,
  F16x2,
  BF16,
  BF16x2,
  F32,
  F64,
  Pred,
  E4m3x2, ///< Two f8 e4m3 (no infinities, NaN = S.1111.111), in a b16.
  E5m2x2, ///< Two f8 e5m2 (IEEE-like), in a b16.
  U16x2,  ///< Two u16 in a b32 (min, max; sm_90).
  S16x2,  ///< Two s16 in a b32 (min, max; sm_90).
  E4m3,   ///< One f8 e4m3 (wgmma's A and B types).
  E5m2,   ///< One f8 e5m2 (wgmma's A and B types).
};

inline unsigned typeBits(Type t) {
  switch (t) {
  case Type::B8:
  case Type::U8:
  case Type::S8:
  case Type::E4m3:
  case Type::E5m2:
    return 8;
  case Type::B16:
  case Type::U16:
  case Type::S16:
  case Type::F16:
  case Type::BF16:
  case Type::E4m3x2:
  case Type::E5m2x2:
    return 16;
  case Type::B32:
  case Type::U32:
  case Type::S32:
  case Type::F32:
  case Type::F16x2:
  case Type::BF16x2:
  case Type::U16x2:
  case Type::S16x2:
    return 32;
  case Type::B64:
  case Type::U64:
  case Type::S64:
  case Type::F64:
    return 64;
  case Type::B128:
    return 128;
  case Type::Pred:
    return 1;
  case Type::None:
    return 0;
  }
  return 0;
}
inline bool isSigned(Type t) {
  return t == Type::S8 || t == Type::S16 || t == Type::S32 || t == Type::S64;
}
inline bool isFloat(Type t) {
  return t == Type::F16 || t == Type::F16x2 || t == Type::BF16 ||
         t == Type::BF16x2 || t == Type::F32 || t == Type::F64;
}

enum class Space : uint8_t { Generic, Global, Shared, Local, Param, Const };

enum class Rnd : uint8_t { None, Rn, Rz, Rm, Rp, Rni, Rzi, Rmi, Rpi, Rna };

enum class Cmp : uint8_t {
  Eq,
  Ne,
  Lt,
  Le,
  Gt,
  Ge,
  Lo,
  Ls,
  Hi,
  Hs,
  Equ,
  Neu,
  Ltu,
  Leu,
  Gtu,
  Geu,
  Num,
  Nan,
};

enum class BoolOp : uint8_t { None, And, Or, Xor };

/// Instruction flags.
enum Flag : uint32_t {
  FSat = 1u << 0,
  FFtz = 1u << 1,
  FApprox = 1u << 2,
  FHi = 1u << 3,
  FLo = 1u << 4,
  FWide = 1u << 5,
  FTrans = 1u << 6,
  FRelu = 1u << 7,
  FNan = 1u << 8,
  FSatFinite = 1u << 9,
  FAligned = 1u << 10,
  FSync = 1u << 11,
  FWrap = 1u << 12,     ///< shf.wrap (else clamp)
  FLeft = 1u << 13,     ///< shf.l
  FShiftAmt = 1u << 14, ///< bfind.shiftamt
  FCg = 1u << 15,       ///< cp.async.cg
  FUni = 1u << 16,
  FArrive = 1u << 17, ///< bar.arrive
  FRed = 1u << 18,    ///< bar.red
  FXorSign = 1u << 19,
  FAbs = 1u << 20,
  FFull = 1u << 21,
  FIgnoreSrc = 1u << 22, ///< cp.async with an ignore-src predicate
  FPopc = 1u << 23,
  FCarryOut = 1u << 24,   ///< .cc: writes the carry flag
  FCarryIn = 1u << 25,    ///< addc/subc/madc: reads the carry flag
  FParity = 1u << 26,     ///< mbarrier.{test,try}_wait.parity
  FExpectTx = 1u << 27,   ///< mbarrier.arrive.expect_tx
  FNoComplete = 1u << 28, ///< mbarrier.arrive.noComplete
  FRead = 1u << 29,       ///< cp.async.bulk.wait_group.read
  FInc = 1u << 30,        ///< setmaxnreg.inc (else .dec)
  FK32 = 1u << 31,        ///< wgmma .m64nNk32 (else .m64nNk16)
};

/// Sub-operations.
enum class Sub : uint8_t {
  None,
  // shfl
  Up,
  Down,
  Bfly,
  Idx,
  // vote
  All,
  Any,
  Uni,
  Ballot,
  // atom / red / redux / bar.red
  AAdd,
  AMin,
  AMax,
  AExch,
  ACas,
  AAnd,
  AOr,
  AXor,
  AInc,
  ADec,
  APopc,
  // prmt modes
  F4e,
  B4e,
  Rc8,
  Ecl,
  Ecr,
  Rc16,
  // mma shapes
  M16n8k16,
  M16n8k8,
  M16n8k32,
  // wmma.load/store: the matrix
  WmmaA,
  WmmaB,
  WmmaC,
  // testp
  Finite,
  Infinite,
  Number,
  NotANumber,
  Normal,
  Subnormal,
  // mbarrier
  MbInit,
  MbArrive,
  MbExpectTx,
  MbCompleteTx,
  MbTestWait,
  MbTryWait,
  MbInval,
  MbPendingCount,
  // cp.async.bulk: the direction
  BulkToShared,
  BulkToGlobal,
  BulkPrefetchTensor, ///< cp.async.bulk.prefetch.tensor: [map, {coordinates}]
};

enum class Special : uint8_t {
  TidX,
  TidY,
  TidZ,
  NtidX,
  NtidY,
  NtidZ,
  CtaidX,
  CtaidY,
  CtaidZ,
  NctaidX,
  NctaidY,
  NctaidZ,
  Laneid,
  Warpid,
  Nwarpid,
  Smid,
  Nsmid,
  Gridid,
  Clock,
  Clock64,
  Globaltimer,
  DynSmem,
  TotalSmem,
  LanemaskEq,
  LanemaskLt,
  LanemaskLe,
  LanemaskGt,
  LanemaskGe,
};

constexpr uint32_t kNoReg = ~0u;
/// No program counter: a branch whose paths meet only at the function exit.
constexpr uint32_t kNoPc = ~0u;

struct Operand {
  enum Kind : uint8_t { None, Reg, Imm, Vec, Addr, Spec, Label, Sink };
  Kind kind = None;
  /// Vec: number of registers; more than 4 (wmma fragments) live in
  /// ModuleImpl::wideVecs[imm] (up to 128: wgmma's accumulators).
  uint8_t count = 0;
  bool neg = false; ///< `!%p`.
  /// Vec: the elements that are immediates (`{0, %rs2}`); for those, regs[k]
  /// indexes ModuleImpl::vecImms.
  uint8_t immMask = 0;
  Special special = Special::TidX;
  /// Reg: the slot. Addr: the base slot, or kNoReg for an absolute address.
  uint32_t reg = kNoReg;
  uint32_t regs[4] = {kNoReg, kNoReg, kNoReg, kNoReg}; ///< Vec; kNoReg = `_`.
  /// Imm: the value's bits. Addr: the offset (or absolute address).
  /// Label: the target pc.
  int64_t imm = 0;
  /// Imm: a decimal float literal not yet given the instruction's type.
  bool isDoubleLiteral = false;
};

struct Instr {
  Op op = Op::Nop;
  Type type = Type::None;  ///< The (destination) type.
  Type type2 = Type::None; ///< cvt/set source type; mma A type.
  Type type3 = Type::None; ///< mma B type.
  Type type4 = Type::None; ///< mma C type.
  Space space = Space::Generic;
  Rnd rnd = Rnd::None;
  Cmp cmp = Cmp::Eq;
  BoolOp boolOp = BoolOp::None;
  Sub sub = Sub::None;
  uint8_t vec = 1;  ///< .v2/.v4; ldmatrix .x1/.x2/.x4.
  uint8_t nops = 0; ///< Operands used.
  uint32_t flags = 0;
  uint32_t guard = kNoReg; ///< Predicate slot, or kNoReg.
  bool guardNeg = false;
  uint32_t line = 0;
  /// The source position of the instruction's last `.loc` directive: an
  /// index into ModuleImpl::files and a line (0 when there is none).
  uint32_t srcFile = 0, srcLine = 0;
  /// call: index into ModuleImpl::calls; bra: the reconvergence pc.
  uint32_t aux = 0;
  Operand ops[6];
  bool has(Flag f) const { return (flags & f) != 0; }
};

/// One `.entry` or `.func`.
struct Function {
  std::string name;
  bool isEntry = false;
  bool isExtern = false;
  enum class Builtin : uint8_t {
    None,
    Vprintf,
    AssertFail
  } builtin = Builtin::None;
  uint32_t line = 0;
  /// Kernel: `.maxntid` (at most that many threads per block) and `.reqntid`
  /// (exactly this block); 0 where not declared.
  Dim3 maxntid{0, 0, 0}, reqntid{0, 0, 0};
  uint32_t begin = 0, end = 0; ///< pc range of the body.
  /// Register slots (Layout.h): the function's own are [regBase, regBase +
  /// ownRegs); a warp running it and its callees needs regFrame slots.
  uint32_t regBase = 0, ownRegs = 0, regFrame = 0;
  /// Kernel: bytes of static shared memory, aligned for the dynamic part
  /// that follows.
  uint32_t staticShared = 0;
  /// Bytes of local memory per thread the function and its callees use.
  uint32_t localFrame = 0;
  std::vector<ParamInfo> params;
  /// Kernel: offsets into the param buffer. Func: local-memory offsets.
  std::vector<uint32_t> paramOffsets;
  uint32_t paramBytes = 0;
  std::vector<ParamInfo> rets;
  std::vector<uint32_t> retOffsets; ///< Local-memory offsets.
};

namespace detail {

/// A call site: the callee and the local offsets of the call scope's
/// .param variables holding results and arguments.
struct CallInfo {
  uint32_t callee = 0;
  std::vector<uint32_t> rets, args;
};

struct ModuleImpl {
  std::string name;
  std::vector<Instr> code;
  std::vector<Function> funcs;
  std::vector<uint32_t> kernels; ///< Indices into funcs.
  std::vector<CallInfo> calls;
  /// The registers of vector operands with 5 to 128 elements (wmma,
  /// wgmma, tensor coordinates).
  std::vector<std::vector<uint32_t>> wideVecs;
  /// The values of immediate elements of vector operands (Operand::immMask).
  std::vector<uint64_t> vecImms;
  /// While parsing, the registers numbered so far; then the largest frame of
  /// any function (Layout.h).
  uint32_t numRegs = 0;
  /// While parsing, local bytes allocated so far; then the largest local
  /// frame of any function (Layout.h).
  uint32_t localBytes = 0;
  /// Static shared memory of all kernels together (each kernel's own is
  /// Function::staticShared).
  uint32_t staticShared = 0;
  uint32_t sharedAlign = 16; ///< Of the dynamic shared memory base.
  bool usesLocal = false;
  /// Source files named by `.file N "name"` directives, by N.
  std::vector<std::string> files;
};

} // namespace detail

/// "the emulator's memory budget of N bytes (G GiB, TILUS_EMU_MAX_MEMORY)".
std::string budgetText(uint64_t budget);

/// Parses and decodes \p text. \p allocGlobal gives device storage to a
/// module-scope `.global`/`.const` variable and returns its address; \p init
/// holds the initializer's bytes, the rest are zeros.
/// Declarations whose host memory exceeds \p maxMemory bytes (registers of
/// one warp, a thread's local memory, a variable) are load errors naming
/// them.
using GlobalAllocator = std::function<Expected<DevicePtr>(
    uint64_t bytes, uint32_t align, const std::vector<uint8_t> &init)>;
Expected<std::shared_ptr<detail::ModuleImpl>>
parsePtx(std::string_view text, const std::string &name,
         const GlobalAllocator &allocGlobal, uint64_t maxMemory);

} // namespace tilus::emu

#endif // TILUS_RUNTIME_EMU_PROGRAM_H
