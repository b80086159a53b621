//===- Parser.cpp - PTX text to the decoded program -----------------------===//
//
// A hand-written lexer and recursive-descent parser for the subset of PTX
// (ISA 7.0-9.0) that LLVM's NVPTX backend, nvcc and inline assembly of tile
// compilers produce. Every instruction is decoded here, once; anything the
// executor does not implement is rejected here with its name and line. The
// mnemonics and the modifiers particular to each family of instructions are
// decoded by the family (Decode.h), next to its executor.
//
//===----------------------------------------------------------------------===//

#include "runtime/emu/Decode.h"
#include "runtime/emu/Float.h"
#include "runtime/emu/Layout.h"
#include "runtime/emu/Program.h"

#include <array>
#include <cctype>
#include <cstdlib>
#include <map>
#include <optional>
#include <unordered_map>

namespace tilus::emu {
namespace {

//===----------------------------------------------------------------------===//
// Lexer
//===----------------------------------------------------------------------===//

struct Tok {
  enum Kind { Ident, Int, F32Bits, F64Bits, Decimal, Str, Punct, End } kind;
  std::string_view text;
  uint32_t line = 0;
  uint64_t ival = 0;
  double fval = 0;
  bool is(char c) const {
    return kind == Punct && text.size() == 1 && text[0] == c;
  }
  bool isIdent(std::string_view s) const { return kind == Ident && text == s; }
};

bool isIdentStart(char c) {
  return std::isalpha((unsigned char)c) || c == '_' || c == '$' || c == '%' ||
         c == '.';
}
bool isIdentChar(char c) {
  return std::isalnum((unsigned char)c) || c == '_' || c == '$' || c == '.';
}

/// The two's-complement negation of an integer literal's bits. A literal is
/// read as unsigned, so `-9223372036854775808` (INT64_MIN) is 2^63 negated:
/// negating it as int64_t would overflow, modulo 2^64 it is itself, the bits
/// the literal stands for.
uint64_t negateLiteral(uint64_t v) { return uint64_t(0) - v; }

Expected<std::vector<Tok>> lex(std::string_view s, const std::string &name) {
  std::vector<Tok> out;
  uint32_t line = 1;
  size_t i = 0, n = s.size();
  auto err = [&](const std::string &m) {
    return Status::error(name + ":" + std::to_string(line) + ": " + m);
  };
  while (i < n) {
    char c = s[i];
    if (c == '\n') {
      ++line;
      ++i;
      continue;
    }
    if (std::isspace((unsigned char)c)) {
      ++i;
      continue;
    }
    if (c == '/' && i + 1 < n && s[i + 1] == '/') {
      while (i < n && s[i] != '\n')
        ++i;
      continue;
    }
    if (c == '/' && i + 1 < n && s[i + 1] == '*') {
      i += 2;
      while (i + 1 < n && !(s[i] == '*' && s[i + 1] == '/')) {
        if (s[i] == '\n')
          ++line;
        ++i;
      }
      i += 2;
      continue;
    }
    Tok t;
    t.line = line;
    size_t start = i;
    if (c == '"') {
      ++i;
      while (i < n && s[i] != '"') {
        if (s[i] == '\\')
          ++i;
        ++i;
      }
      ++i;
      t.kind = Tok::Str;
      t.text = s.substr(start, i - start);
      out.push_back(t);
      continue;
    }
    if (std::isdigit((unsigned char)c)) {
      if (c == '0' && i + 1 < n &&
          (s[i + 1] == 'f' || s[i + 1] == 'F' || s[i + 1] == 'd' ||
           s[i + 1] == 'D')) {
        bool isF = s[i + 1] == 'f' || s[i + 1] == 'F';
        i += 2;
        size_t h = i;
        while (i < n && std::isxdigit((unsigned char)s[i]))
          ++i;
        if (i - h != (isF ? 8u : 16u))
          return err("malformed float literal '" +
                     std::string(s.substr(start, i - start)) + "'");
        t.kind = isF ? Tok::F32Bits : Tok::F64Bits;
        t.ival =
            std::strtoull(std::string(s.substr(h, i - h)).c_str(), nullptr, 16);
      } else if (c == '0' && i + 1 < n &&
                 (s[i + 1] == 'x' || s[i + 1] == 'X')) {
        i += 2;
        size_t h = i;
        while (i < n && std::isxdigit((unsigned char)s[i]))
          ++i;
        t.kind = Tok::Int;
        t.ival =
            std::strtoull(std::string(s.substr(h, i - h)).c_str(), nullptr, 16);
      } else {
        while (i < n && std::isdigit((unsigned char)s[i]))
          ++i;
        bool isDec = false;
        if (i < n && s[i] == '.' && i + 1 < n &&
            std::isdigit((unsigned char)s[i + 1])) {
          isDec = true;
          ++i;
          while (i < n && std::isdigit((unsigned char)s[i]))
            ++i;
        }
        if (i < n && (s[i] == 'e' || s[i] == 'E')) {
          isDec = true;
          ++i;
          if (i < n && (s[i] == '+' || s[i] == '-'))
            ++i;
          while (i < n && std::isdigit((unsigned char)s[i]))
            ++i;
        }
        std::string num(s.substr(start, i - start));
        if (isDec) {
          t.kind = Tok::Decimal;
          t.fval = std::strtod(num.c_str(), nullptr);
        } else {
          t.kind = Tok::Int;
          bool octal = num.size() > 1 && num[0] == '0';
          t.ival = std::strtoull(num.c_str(), nullptr, octal ? 8 : 10);
        }
      }
      if (i < n && (s[i] == 'U' || s[i] == 'u'))
        ++i;
      t.text = s.substr(start, i - start);
      out.push_back(t);
      continue;
    }
    if (isIdentStart(c)) {
      ++i;
      while (i < n) {
        if (isIdentChar(s[i])) {
          ++i;
        } else if (s[i] == ':' && i + 1 < n && s[i + 1] == ':') {
          i += 2;
        } else {
          break;
        }
      }
      t.kind = Tok::Ident;
      t.text = s.substr(start, i - start);
      out.push_back(t);
      continue;
    }
    if (std::strchr("{}()[];,:+-@!<>=|*/", c)) {
      ++i;
      t.kind = Tok::Punct;
      t.text = s.substr(start, 1);
      out.push_back(t);
      continue;
    }
    return err(std::string("unexpected character '") + c + "'");
  }
  Tok e;
  e.kind = Tok::End;
  e.line = line;
  out.push_back(e);
  return out;
}

//===----------------------------------------------------------------------===//
// Modifier tables
//===----------------------------------------------------------------------===//

Type typeByName(std::string_view s) {
  static const std::unordered_map<std::string_view, Type> m = {
      {"b8", Type::B8},         {"b16", Type::B16},
      {"b32", Type::B32},       {"b64", Type::B64},
      {"b128", Type::B128},     {"u8", Type::U8},
      {"u16", Type::U16},       {"u32", Type::U32},
      {"u64", Type::U64},       {"s8", Type::S8},
      {"s16", Type::S16},       {"s32", Type::S32},
      {"s64", Type::S64},       {"f16", Type::F16},
      {"f16x2", Type::F16x2},   {"bf16", Type::BF16},
      {"bf16x2", Type::BF16x2}, {"f32", Type::F32},
      {"f64", Type::F64},       {"pred", Type::Pred},
      {"e4m3x2", Type::E4m3x2}, {"e5m2x2", Type::E5m2x2}};
  auto it = m.find(s);
  return it == m.end() ? Type::None : it->second;
}

bool spaceByName(std::string_view s, Space &sp) {
  if (s == "global")
    sp = Space::Global;
  else if (s == "shared" || s == "shared::cta")
    sp = Space::Shared;
  else if (s == "local")
    sp = Space::Local;
  else if (s == "param" || s == "param::entry" || s == "param::func")
    sp = Space::Param;
  else if (s == "const")
    sp = Space::Const;
  else
    return false;
  return true;
}

bool rndByName(std::string_view s, Rnd &r) {
  static const std::unordered_map<std::string_view, Rnd> m = {
      {"rn", Rnd::Rn},   {"rz", Rnd::Rz},   {"rm", Rnd::Rm},
      {"rp", Rnd::Rp},   {"rni", Rnd::Rni}, {"rzi", Rnd::Rzi},
      {"rmi", Rnd::Rmi}, {"rpi", Rnd::Rpi}, {"rna", Rnd::Rna}};
  auto it = m.find(s);
  if (it == m.end())
    return false;
  r = it->second;
  return true;
}

/// Cache, eviction and memory-ordering qualifiers: accepted, no effect on a
/// sequentially consistent single-threaded emulation. cp.async's own "cg"
/// (16-byte copies only) is decoded by its family before this list is seen.
bool isIgnoredQualifier(std::string_view s) {
  static const char *const names[] = {"ca",
                                      "cg",
                                      "cs",
                                      "lu",
                                      "cv",
                                      "wb",
                                      "wt",
                                      "nc",
                                      "volatile",
                                      "relaxed",
                                      "acquire",
                                      "release",
                                      "acq_rel",
                                      "sc",
                                      "weak",
                                      "cta",
                                      "gpu",
                                      "sys",
                                      "L1::evict_normal",
                                      "L1::evict_unchanged",
                                      "L1::evict_first",
                                      "L1::evict_last",
                                      "L1::no_allocate",
                                      "L2::evict_normal",
                                      "L2::evict_first",
                                      "L2::evict_last",
                                      "L2::evict_unchanged",
                                      "fractional",
                                      "range",
                                      "L2::64B",
                                      "L2::128B",
                                      "L2::256B",
                                      "L2::cache_hint",
                                      "unified",
                                      "to",
                                      "uni",
                                      "proxy",
                                      "async",
                                      "mbarrier_init",
                                      "noftz",
                                      "alias"};
  for (const char *n : names)
    if (s == n)
      return true;
  return false;
}

/// A mnemonic and the family that decodes it.
struct OpInfo {
  const decode::Mnemonic *mnemonic;
  const decode::Family *family;
};

const std::unordered_map<std::string_view, OpInfo> &opTable() {
  static const std::unordered_map<std::string_view, OpInfo> m = [] {
    std::unordered_map<std::string_view, OpInfo> t;
    for (const decode::Family *f :
         {&decode::intFamily(), &decode::floatFamily(), &decode::memoryFamily(),
          &decode::warpFamily(), &decode::tensorFamily(),
          &decode::controlFamily()})
      for (const decode::Mnemonic &mn : f->mnemonics)
        t.emplace(mn.name, OpInfo{&mn, f});
    return t;
  }();
  return m;
}

/// Modifiers that set a flag on any instruction.
bool flagByName(std::string_view s, Flag &f) {
  static const std::unordered_map<std::string_view, Flag> m = {
      {"sat", FSat},     {"satfinite", FSatFinite},
      {"ftz", FFtz},     {"approx", FApprox},
      {"full", FFull},   {"hi", FHi},
      {"lo", FLo},       {"wide", FWide},
      {"trans", FTrans}, {"relu", FRelu},
      {"NaN", FNan},     {"xorsign", FXorSign},
      {"abs", FAbs},     {"aligned", FAligned},
      {"sync", FSync}};
  auto it = m.find(s);
  if (it == m.end())
    return false;
  f = it->second;
  return true;
}

/// Reads modifier \p m in the order of Decode.h; false if nothing takes it.
bool readModifier(decode::Decoding &d, const decode::Family &family,
                  std::string_view m) {
  Instr &ins = d.ins;
  Type t = typeByName(m);
  Space sp;
  Rnd r;
  Flag f;
  if (t != Type::None)
    d.types.push_back(t);
  else if (spaceByName(m, sp))
    ins.space = sp;
  else if (rndByName(m, r))
    ins.rnd = r;
  else if (m == "v2" || m == "v4" || m == "x1" || m == "x2" || m == "x4")
    ins.vec = uint8_t(m[1] - '0');
  else if (flagByName(m, f))
    ins.flags |= f;
  else
    return family.modifier(d, m) || isIgnoredQualifier(m);
  return true;
}

/// Addresses only where an instruction reads or writes memory, labels only
/// as branch targets; vectors only where an instruction takes them:
/// anything else would silently read as zero.
Status checkOperandKinds(const decode::Decoding &d) {
  const Instr &ins = d.ins;
  std::string_view full = d.full;
  bool memOp = ins.op == Op::Ld || ins.op == Op::St || ins.op == Op::Atom ||
               ins.op == Op::Red || ins.op == Op::CpAsync ||
               ins.op == Op::Ldmatrix || ins.op == Op::Stmatrix ||
               ins.op == Op::WmmaLoad || ins.op == Op::WmmaStore ||
               ins.op == Op::Nop;
  for (int i = 0; i < ins.nops; ++i) {
    const Operand &o = ins.ops[i];
    if (o.kind == Operand::Addr && !memOp)
      return d.error("operand " + std::to_string(i) + " of '" +
                     std::string(full) + "' cannot be an [address]");
    if (o.kind == Operand::Label && ins.op != Op::Bra)
      return d.error("operand " + std::to_string(i) + " of '" +
                     std::string(full) + "' cannot be a label");
  }
  bool vecDst =
      ins.op == Op::Mov || ins.op == Op::Ld || ins.op == Op::Ldmatrix ||
      ins.op == Op::Mma || ins.op == Op::Setp || ins.op == Op::Shfl ||
      ins.op == Op::Match || ins.op == Op::WmmaLoad || ins.op == Op::WmmaMma;
  bool vecSrc = ins.op == Op::Mov || ins.op == Op::St || ins.op == Op::Mma ||
                ins.op == Op::WmmaStore || ins.op == Op::WmmaMma ||
                ins.op == Op::Stmatrix;
  for (int i = 0; i < ins.nops; ++i)
    if (ins.ops[i].kind == Operand::Vec &&
        !(i == 0 ? vecDst
                 : (vecSrc &&
                    (ins.op == Op::Mma || ins.op == Op::WmmaMma || i == 1))))
      return d.error("operand " + std::to_string(i) + " of '" +
                     std::string(full) + "' cannot be a vector");
  for (int i = 0; i < ins.nops; ++i)
    if (ins.ops[i].kind == Operand::Vec && ins.ops[i].immMask &&
        !(i == 1 && (ins.op == Op::Mov || ins.op == Op::St)))
      return d.error("operand " + std::to_string(i) + " of '" +
                     std::string(full) +
                     "' is a vector with immediate elements (supported only "
                     "as the source of mov and st)");
  if (!decode::isWmma(ins.op))
    for (int i = 0; i < ins.nops; ++i)
      if (ins.ops[i].kind == Operand::Vec && ins.ops[i].count > 4)
        return d.error("vector operand with more than 4 elements in '" +
                       std::string(full) + "'");
  bool writesFirst =
      ins.op != Op::St && ins.op != Op::Red && ins.op != Op::Bra &&
      ins.op != Op::Bar && ins.op != Op::BarWarp && ins.op != Op::CpAsync &&
      ins.op != Op::WmmaStore && ins.op != Op::Stmatrix &&
      ins.op != Op::CpAsyncWait && ins.op != Op::Nop && ins.op != Op::Membar;
  if (writesFirst && ins.nops > 0 && ins.ops[0].kind != Operand::Reg &&
      ins.ops[0].kind != Operand::Vec && ins.ops[0].kind != Operand::Sink)
    return d.error("the destination of '" + std::string(full) +
                   "' must be a register");
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Parser
//===----------------------------------------------------------------------===//

/// What a name in scope stands for.
struct Sym {
  enum Kind { Reg, Var, Label, Func } kind;
  uint32_t reg = 0;
  Type regType = Type::None;
  Space space = Space::Global;
  uint64_t addr = 0; ///< State-space address (or generic for global/const).
  bool dynShared = false;
  int32_t sharedVar = -1;  ///< A static shared variable: its LayoutInput index.
  int32_t localPiece = -1; ///< Per-thread storage: its LayoutInput piece.
};

/// `.reg .type %r<N>`: the registers base0 .. base(N-1), numbered from
/// first. Kept as a range, not N names, so that a huge N costs nothing until
/// the memory budget rejects it.
struct RegRange {
  std::string base;
  uint64_t count = 0;
  uint32_t first = 0;
  Type type = Type::None;
};

/// The names declared in one `{ ... }` block (or the module).
struct Scope : std::unordered_map<std::string, Sym> {
  std::vector<RegRange> ranges;
};

/// The largest static shared variable: a CTA has at most 227 KiB of shared
/// memory (sm_90); launches check a kernel's total with the dynamic part.
constexpr uint64_t kMaxSharedBytes = 227 * 1024;
/// Local memory a thread may have (CUDA: 512 KiB on every architecture).
constexpr uint64_t kMaxLocalBytes = 512 * 1024;
/// Host bytes of one register slot of a warp: 32 lanes of 64 bits.
constexpr uint64_t kRegSlotBytes = 32 * 8;

class Parser {
public:
  Parser(std::vector<Tok> toks, const std::string &name,
         const GlobalAllocator &alloc, uint64_t maxMemory)
      : toks(std::move(toks)), name(name), alloc(alloc),
        maxMemory(maxMemory) {
    mod = std::make_shared<detail::ModuleImpl>();
    mod->name = name;
  }

  Expected<std::shared_ptr<detail::ModuleImpl>> run();

private:
  std::vector<Tok> toks;
  size_t pos = 0;
  std::string name;
  const GlobalAllocator &alloc;
  uint64_t maxMemory;
  /// The line of the per-thread declaration that took the module's local
  /// memory past 2 GiB; 0 if none did.
  uint32_t localOverflowLine = 0;
  std::shared_ptr<detail::ModuleImpl> mod;
  std::vector<Scope> scopes;
  std::vector<Type> regTypes; ///< Declared type of every register slot.
  uint32_t ccReg = kNoReg;    ///< The carry flag's slot, once used.
  std::map<std::string, uint32_t> funcIndex;
  // Labels are scoped like registers: a `{ ... }` block (inline assembly)
  // may define the same label as another block. Per open block: its labels
  // and the branches (pc, label) not resolved yet.
  std::vector<std::unordered_map<std::string, uint32_t>> labelScopes;
  std::vector<std::vector<std::pair<uint32_t, std::string>>> fixupScopes;

  /// Resolves the innermost block's branches to its labels; the others
  /// move out to the enclosing block.
  void closeLabelScope() {
    auto fixups = std::move(fixupScopes.back());
    auto labels = std::move(labelScopes.back());
    fixupScopes.pop_back();
    labelScopes.pop_back();
    for (auto &[pc, name] : fixups) {
      auto it = labels.find(name);
      if (it == labels.end()) {
        if (!fixupScopes.empty())
          fixupScopes.back().push_back({pc, name});
        else
          unresolved.push_back({pc, name});
        continue;
      }
      for (auto &o : mod->code[pc].ops)
        if (o.kind == Operand::Label)
          o.imm = it->second;
    }
  }
  std::vector<std::pair<uint32_t, std::string>> unresolved;
  /// Shared variables and the operands holding their addresses, for the
  /// per-kernel layout (Layout.h).
  detail::LayoutInput layoutIn;
  /// Notes an operand that holds the address of \p s, if the layout moves it.
  void noteSymRef(const Sym &s, int idx) {
    uint32_t pc = uint32_t(mod->code.size());
    if (s.dynShared || s.sharedVar >= 0)
      layoutIn.fixups.push_back({pc, idx, s.dynShared ? -1 : s.sharedVar});
    if (s.localPiece >= 0)
      layoutIn.localFixups.push_back({pc, idx, s.localPiece});
  }
  uint32_t maxSharedAlign = 16;
  int curFunc = -1;

  const Tok &peek(size_t k = 0) const {
    return toks[std::min(pos + k, toks.size() - 1)];
  }
  const Tok &next() {
    const Tok &t = toks[pos];
    if (pos + 1 < toks.size())
      ++pos;
    return t;
  }
  Status err(const Tok &t, const std::string &m) const {
    return Status::error(name + ":" + std::to_string(t.line) + ": " + m);
  }
  Status errLine(uint32_t line, const std::string &m) const {
    return Status::error(name + ":" + std::to_string(line) + ": " + m);
  }
  Status expect(char c) {
    if (!peek().is(c))
      return err(peek(), std::string("expected '") + c + "', found '" +
                             std::string(peek().text) + "'");
    next();
    return Status::success();
  }
  /// A copy: a register of a range has no stored Sym.
  std::optional<Sym> lookup(const std::string &s) const {
    for (auto it = scopes.rbegin(); it != scopes.rend(); ++it) {
      auto f = it->find(s);
      if (f != it->end())
        return f->second;
      for (const RegRange &r : it->ranges)
        if (std::optional<uint64_t> i = rangeIndex(r, s)) {
          Sym sym{Sym::Reg};
          sym.reg = r.first + uint32_t(*i);
          sym.regType = r.type;
          return sym;
        }
    }
    return std::nullopt;
  }
  /// The index of \p s in the range \p r (base then a decimal number below
  /// its count, without leading zeros), if it is one of its names.
  static std::optional<uint64_t> rangeIndex(const RegRange &r,
                                            std::string_view s) {
    if (s.size() <= r.base.size() || s.size() > r.base.size() + 19 ||
        s.compare(0, r.base.size(), r.base) != 0)
      return std::nullopt;
    std::string_view digits = s.substr(r.base.size());
    if (digits.size() > 1 && digits[0] == '0')
      return std::nullopt;
    uint64_t i = 0;
    for (char c : digits) {
      if (c < '0' || c > '9')
        return std::nullopt;
      i = i * 10 + uint64_t(c - '0');
    }
    if (i >= r.count)
      return std::nullopt;
    return i;
  }
  /// "N bytes exceed the emulator's memory budget ..." for a declaration.
  std::string overBudget(uint64_t bytes, const std::string &what) const {
    return what + " needs " + std::to_string(bytes) +
           " bytes of host memory, more than " + budgetText(maxMemory);
  }
  void skipStatement() {
    int depth = 0;
    while (peek().kind != Tok::End) {
      if (peek().is('{'))
        ++depth;
      if (peek().is('}')) {
        if (depth == 0)
          return;
        --depth;
        if (depth == 0) {
          next();
          return;
        }
      }
      if (peek().is(';') && depth == 0) {
        next();
        return;
      }
      next();
    }
  }
  /// `.loc FILE LINE COL`: the source position of the instructions after it.
  void recordLoc() {
    if (peek().kind != Tok::Int)
      return;
    locFile = uint32_t(next().ival);
    if (peek().kind == Tok::Int)
      locLine = uint32_t(next().ival);
  }

  /// `.file N "name"`: the name of source file N (LLVM writes these at the
  /// end of the module, after the `.loc`s that use them).
  void recordFile() {
    if (peek().kind != Tok::Int)
      return;
    uint32_t index = uint32_t(next().ival);
    if (peek().kind != Tok::Str || index > 4096)
      return;
    std::string_view text = next().text;
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"')
      text = text.substr(1, text.size() - 2);
    if (mod->files.size() <= index)
      mod->files.resize(index + 1);
    mod->files[index] = std::string(text);
  }

  uint32_t locFile = 0, locLine = 0;

  void skipLine(uint32_t line) {
    while (peek().kind != Tok::End && peek().line == line)
      next();
  }

  Status parseModuleItem();
  Status parseVariable(bool isExtern, bool inFunction);
  Status parseParamDecl(ParamInfo &p, std::string &pname);
  Status parseFunction(bool isEntry, bool isExtern);
  Status parseBody();
  Status parseStatement();
  Status parseRegDecl();
  Status parseThreadCount(const Tok &d, Dim3 &dims);
  Status parseInstruction();
  Status parseCall(Instr &ins, const std::vector<std::string_view> &mods,
                   const Tok &at);
  Status parseOperand(Operand &o, Instr &ins, int idx, Space &symSpace);
  Status decode(Instr &ins, const decode::Family &family,
                std::string_view opcode,
                const std::vector<std::string_view> &mods, const Tok &at);
  Status finish();
  void computeReconvergence(uint32_t begin, uint32_t end);
  /// Per-thread storage of function \p owner in the module-wide numbering
  /// (Layout.h moves it into the owner's frame); returns the offset and sets
  /// \p piece.
  uint64_t allocLocal(uint64_t bytes, uint64_t align, uint32_t owner,
                      int32_t &piece) {
    uint64_t off = (mod->localBytes + align - 1) / align * align;
    // Offsets are kept in 32 bits: past 2 GiB in all, the module is
    // rejected (run()) at the first declaration that went over.
    if (off + bytes > INT32_MAX && !localOverflowLine) {
      localOverflowLine = toks[pos ? pos - 1 : 0].line;
      off = 0;
    }
    mod->localBytes = uint32_t(std::min<uint64_t>(off + bytes, INT32_MAX));
    mod->usesLocal = true;
    piece = int32_t(layoutIn.localPieces.size());
    layoutIn.localPieces.push_back({owner, off, bytes, uint32_t(align)});
    return off;
  }
};

Expected<std::shared_ptr<detail::ModuleImpl>> Parser::run() {
  scopes.emplace_back();
  while (peek().kind != Tok::End) {
    Status s = parseModuleItem();
    if (!s)
      return s;
    if (localOverflowLine)
      return errLine(localOverflowLine,
                     "the module's per-thread variables (.local, .param, "
                     "function parameters) exceed 2 GiB per thread here");
  }
  Status s = finish();
  if (!s)
    return s;
  return mod;
}

Status Parser::parseModuleItem() {
  const Tok &t = peek();
  if (t.kind != Tok::Ident)
    return err(t, "unexpected '" + std::string(t.text) + "' at module scope");
  if (t.text == ".version") {
    next();
    const Tok &v = next();
    if (v.kind != Tok::Decimal && v.kind != Tok::Int)
      return err(v, "malformed .version");
    double ver = v.kind == Tok::Decimal ? v.fval : double(v.ival);
    if (ver < 6.0 || ver >= 10.0)
      return err(v, "unsupported PTX ISA version " + std::string(v.text) +
                        " (supported: 6.0 to 9.x)");
    return Status::success();
  }
  if (t.text == ".target") {
    next();
    const Tok &tg = next();
    std::string target(tg.text);
    if (target.rfind("sm_", 0) == 0) {
      int sm = std::atoi(target.c_str() + 3);
      if (sm < 70 || sm > 90)
        return err(tg, "unsupported target " + target +
                           " (supported: sm_70 to sm_90a)");
    }
    while (peek().is(',')) {
      next();
      next();
    }
    return Status::success();
  }
  if (t.text == ".address_size") {
    next();
    const Tok &a = next();
    if (a.ival != 64)
      return err(a, "only .address_size 64 is supported");
    return Status::success();
  }
  if (t.text == ".file") {
    next();
    recordFile();
    skipLine(t.line);
    return Status::success();
  }
  if (t.text == ".loc") {
    next();
    recordLoc();
    skipLine(t.line);
    return Status::success();
  }
  if (t.text == ".section") {
    next();
    skipStatement();
    return Status::success();
  }
  bool isExtern = false;
  bool isEntry = false;
  while (peek().kind == Tok::Ident &&
         (peek().text == ".visible" || peek().text == ".extern" ||
          peek().text == ".weak" || peek().text == ".common")) {
    if (peek().text == ".extern")
      isExtern = true;
    next();
  }
  const Tok &d = peek();
  if (d.text == ".entry" || d.text == ".func") {
    isEntry = d.text == ".entry";
    next();
    return parseFunction(isEntry, isExtern);
  }
  if (d.text == ".global" || d.text == ".shared" || d.text == ".const")
    return parseVariable(isExtern, false);
  return err(d, "unsupported directive '" + std::string(d.text) + "'");
}

/// `.space [.align N] [.vN] .type name[[N]]* [= init];`
Status Parser::parseVariable(bool isExtern, bool inFunction) {
  const Tok &spTok = next();
  Space space;
  if (!spaceByName(spTok.text.substr(1), space))
    return err(spTok, "unsupported state space " + std::string(spTok.text));
  uint64_t align = 0;
  Type type = Type::None;
  unsigned vec = 1;
  while (peek().kind == Tok::Ident && peek().text[0] == '.') {
    std::string_view m = next().text.substr(1);
    if (m == "align") {
      align = next().ival;
    } else if (m == "v2" || m == "v4" || m == "v8") {
      vec = m[1] - '0';
    } else if (typeByName(m) != Type::None) {
      type = typeByName(m);
    } else if (m == "ptr" || m == "global" || m == "shared" || m == "const" ||
               m == "local") {
      // Pointer attributes of params: no effect.
    } else {
      return err(peek(), "unsupported variable attribute ." + std::string(m));
    }
  }
  if (type == Type::None)
    return err(peek(), "variable declaration without a type");
  const Tok &nameTok = next();
  if (nameTok.kind != Tok::Ident)
    return err(nameTok, "expected a variable name");
  std::string vname(nameTok.text);
  uint64_t elemBytes = std::max(1u, typeBits(type) / 8) * vec;
  uint64_t count = 1;
  bool unsized = false;
  while (peek().is('[')) {
    next();
    if (peek().is(']')) {
      unsized = true;
      next();
      continue;
    }
    uint64_t n = next().ival;
    count = n && count > UINT64_MAX / elemBytes / n ? UINT64_MAX / elemBytes
                                                     : count * n;
    Status s = expect(']');
    if (!s)
      return s;
  }
  if (align == 0)
    align = elemBytes;
  uint64_t bytes = elemBytes * count;
  // Sizes are checked before anything is allocated: a shared variable
  // against what a CTA can have, the others against the memory budget.
  if (space == Space::Shared && !isExtern && !unsized &&
      bytes > kMaxSharedBytes)
    return err(nameTok, "'.shared' variable '" + vname + "' of " +
                            std::to_string(bytes) + " bytes is more than the " +
                            std::to_string(kMaxSharedBytes) +
                            " bytes of shared memory a CTA can have (227 KiB)");
  // The module-wide layout of every kernel's static shared variables
  // together is kept in 32 bits.
  if (space == Space::Shared && mod->staticShared + bytes + align > INT32_MAX)
    return err(nameTok, "the static shared variables of the module, up to '" +
                            vname + "', exceed 2 GiB");
  if (space != Space::Shared && bytes > maxMemory)
    return err(nameTok, overBudget(bytes, "'" + std::string(spTok.text) +
                                              "' variable '" + vname + "'"));
  std::vector<uint8_t> init;
  if (peek().is('=')) {
    next();
    // Flattened initializer: numbers, float bits, or symbol addresses.
    auto pushVal = [&](uint64_t v) {
      for (unsigned b = 0; b < elemBytes / vec; ++b)
        init.push_back(uint8_t(v >> (8 * b)));
    };
    int depth = 0;
    do {
      const Tok &v = peek();
      if (v.is('{')) {
        ++depth;
        next();
      } else if (v.is('}')) {
        --depth;
        next();
      } else if (v.is(',')) {
        next();
      } else {
        bool neg = false;
        if (v.is('-')) {
          neg = true;
          next();
        }
        const Tok &x = next();
        uint64_t val = 0;
        if (x.kind == Tok::Int)
          val = neg ? negateLiteral(x.ival) : x.ival;
        else if (x.kind == Tok::F32Bits || x.kind == Tok::F64Bits)
          val = x.ival;
        else if (x.kind == Tok::Decimal) {
          double f = neg ? -x.fval : x.fval;
          val = type == Type::F32 ? f32ToBits(float(f)) : f64ToBits(f);
        } else if (x.kind == Tok::Ident) {
          std::string sname(x.text);
          if (sname == "generic" && peek().is('(')) {
            next();
            sname = std::string(next().text);
            Status s = expect(')');
            if (!s)
              return s;
          }
          std::optional<Sym> sym = lookup(sname);
          if (!sym || sym->kind != Sym::Var)
            return err(x, "unknown symbol '" + sname + "' in initializer");
          if (sym->space == Space::Shared)
            layoutIn.pinned = true; // its offset is now in memory
          val = sym->addr;
        } else {
          return err(x, "malformed initializer");
        }
        pushVal(val);
      }
    } while (depth > 0 && peek().kind != Tok::End);
  }
  Status s = expect(';');
  if (!s)
    return s;
  if (unsized && space != Space::Shared)
    return err(nameTok, "unsized array '" + vname + "' outside .shared");
  if (init.size() > bytes)
    bytes = init.size();

  Sym sym;
  sym.kind = Sym::Var;
  sym.space = space;
  if (space == Space::Shared) {
    maxSharedAlign = std::max<uint32_t>(maxSharedAlign, uint32_t(align));
    if (isExtern || unsized) {
      sym.dynShared = true;
      mod->sharedAlign = std::max<uint32_t>(mod->sharedAlign, uint32_t(align));
    } else {
      uint64_t off = (mod->staticShared + align - 1) / align * align;
      mod->staticShared = uint32_t(off + bytes);
      sym.addr = off;
      sym.sharedVar = int32_t(layoutIn.sharedVars.size());
      layoutIn.sharedVars.push_back({off, bytes, uint32_t(align)});
    }
  } else {
    auto a = alloc(bytes, uint32_t(align), init);
    if (!a)
      return err(nameTok, "'" + std::string(spTok.text) +
                              "' variable '" + vname +
                              "': " + a.error().message());
    sym.addr = *a;
  }
  (inFunction ? scopes.back() : scopes.front())[vname] = sym;
  return Status::success();
}

/// `.param [.align N] .type [.ptr ...] name[[N]]`, or `.reg .type name`.
Status Parser::parseParamDecl(ParamInfo &p, std::string &pname) {
  const Tok &sp = next();
  if (sp.text != ".param" && sp.text != ".local")
    return err(sp, "unsupported parameter kind '" + std::string(sp.text) +
                       "' (only .param)");
  uint64_t align = 0;
  Type type = Type::None;
  while (peek().kind == Tok::Ident && peek().text[0] == '.') {
    std::string_view m = next().text.substr(1);
    if (m == "align")
      align = next().ival;
    else if (typeByName(m) != Type::None)
      type = typeByName(m);
    else if (m == "ptr" || m == "global" || m == "shared" || m == "const" ||
             m == "local")
      continue;
    else
      return err(peek(), "unsupported parameter attribute ." + std::string(m));
  }
  if (type == Type::None)
    return err(peek(), "parameter without a type");
  const Tok &n = next();
  pname = std::string(n.text);
  uint64_t elem = std::max(1u, typeBits(type) / 8);
  uint64_t count = 1;
  while (peek().is('[')) {
    next();
    uint64_t k = next().ival;
    count = k && count > UINT64_MAX / elem / k ? UINT64_MAX / elem : count * k;
    Status s = expect(']');
    if (!s)
      return s;
  }
  // Every thread has its own copy (of a .local variable, of a call scope's
  // or a function's parameters): a GPU gives a thread at most 512 KiB.
  if (elem * count > kMaxLocalBytes)
    return err(n, "'" + std::string(sp.text) + "' variable '" + pname +
                      "' of " + std::to_string(elem * count) +
                      " bytes is more than the " +
                      std::to_string(kMaxLocalBytes) +
                      " bytes of local memory a thread can have (512 KiB)");
  p.name = pname;
  p.size = uint32_t(elem * count);
  p.align = uint32_t(align ? align : elem);
  return Status::success();
}

/// `.maxntid nx[, ny[, nz]]` or `.reqntid ...` after \p d.
Status Parser::parseThreadCount(const Tok &d, Dim3 &dims) {
  uint32_t *dim[3] = {&dims.x, &dims.y, &dims.z};
  dims = Dim3(1, 1, 1);
  for (int i = 0; i < 3; ++i) {
    const Tok &v = next();
    if (v.kind != Tok::Int || v.ival == 0 || v.ival > 1024)
      return err(v, std::string(d.text) +
                        " needs 1 to 3 thread counts from 1 to 1024");
    *dim[i] = uint32_t(v.ival);
    if (!peek().is(','))
      break;
    next();
  }
  return Status::success();
}

Status Parser::parseFunction(bool isEntry, bool isExtern) {
  Function f;
  f.isEntry = isEntry;
  f.isExtern = isExtern;
  f.line = peek().line;
  std::vector<std::string> retNames, paramNames;
  if (peek().is('(')) { // return values of a .func
    next();
    while (!peek().is(')')) {
      ParamInfo p;
      std::string pn;
      Status s = parseParamDecl(p, pn);
      if (!s)
        return s;
      f.rets.push_back(p);
      retNames.push_back(pn);
      if (peek().is(','))
        next();
    }
    next();
  }
  const Tok &n = next();
  if (n.kind != Tok::Ident)
    return err(n, "expected a function name");
  f.name = std::string(n.text);
  if (peek().is('(')) {
    next();
    while (!peek().is(')')) {
      ParamInfo p;
      std::string pn;
      Status s = parseParamDecl(p, pn);
      if (!s)
        return s;
      f.params.push_back(p);
      paramNames.push_back(pn);
      if (peek().is(','))
        next();
      if (peek().kind == Tok::End)
        return err(peek(), "unterminated parameter list");
    }
    next();
  }
  // Performance directives up to the body or the end of a declaration;
  // launches check .maxntid and .reqntid, as a GPU does.
  while (!peek().is('{') && !peek().is(';') && peek().kind != Tok::End) {
    const Tok &d = next();
    if (d.isIdent(".maxntid") || d.isIdent(".reqntid")) {
      Status s = parseThreadCount(d, d.text == ".maxntid" ? f.maxntid
                                                          : f.reqntid);
      if (!s)
        return s;
    }
  }

  uint32_t index;
  auto existing = funcIndex.find(f.name);
  if (existing != funcIndex.end()) {
    index = existing->second;
  } else {
    index = uint32_t(mod->funcs.size());
    if (f.name == "vprintf")
      f.builtin = Function::Builtin::Vprintf;
    else if (f.name == "__assertfail")
      f.builtin = Function::Builtin::AssertFail;
    // Parameters: kernel params in the param buffer, .func params and
    // return values in per-thread local memory.
    if (isEntry) {
      uint32_t off = 0;
      for (auto &p : f.params) {
        off = (off + p.align - 1) / p.align * p.align;
        f.paramOffsets.push_back(off);
        off += p.size;
      }
      f.paramBytes = off;
    } else {
      auto &pieces = layoutIn.funcPieces[index];
      int32_t piece;
      for (auto &p : f.params) {
        f.paramOffsets.push_back(
            uint32_t(allocLocal(p.size, p.align, index, piece)));
        pieces.params.push_back(piece);
      }
      for (auto &p : f.rets) {
        f.retOffsets.push_back(
            uint32_t(allocLocal(p.size, p.align, index, piece)));
        pieces.rets.push_back(piece);
      }
    }
    mod->funcs.push_back(f);
    funcIndex[f.name] = index;
    if (isEntry)
      mod->kernels.push_back(index);
    Sym fs;
    fs.kind = Sym::Func;
    fs.reg = index;
    scopes.front()[f.name] = fs;
  }
  if (peek().is(';')) {
    next();
    return Status::success();
  }
  // A body.
  Function &fn = mod->funcs[index];
  if (fn.begin != fn.end)
    return err(n, "function '" + fn.name + "' defined twice");
  fn.isExtern = false;
  fn.builtin = Function::Builtin::None;
  fn.line = f.line;
  if (f.maxntid.x)
    fn.maxntid = f.maxntid;
  if (f.reqntid.x)
    fn.reqntid = f.reqntid;
  scopes.emplace_back();
  for (size_t i = 0; i < paramNames.size(); ++i) {
    Sym s;
    s.kind = Sym::Var;
    s.space = Space::Param;
    s.addr =
        isEntry ? kKernelParamBase + fn.paramOffsets[i] : fn.paramOffsets[i];
    if (!isEntry)
      s.localPiece = layoutIn.funcPieces[index].params[i];
    scopes.back()[paramNames[i]] = s;
  }
  for (size_t i = 0; i < retNames.size(); ++i) {
    Sym s;
    s.kind = Sym::Var;
    s.space = Space::Param;
    s.addr = fn.retOffsets[i];
    s.localPiece = layoutIn.funcPieces[index].rets[i];
    scopes.back()[retNames[i]] = s;
  }
  curFunc = int(index);
  labelScopes.assign(1, {});
  fixupScopes.assign(1, {});
  unresolved.clear();
  mod->funcs[index].begin = uint32_t(mod->code.size());
  // The function's registers are numbered from here (Layout.h); the carry
  // flag is a register of each function that uses it.
  uint32_t firstReg = mod->numRegs;
  ccReg = kNoReg;
  Status s = expect('{');
  if (!s)
    return s;
  s = parseBody();
  if (!s)
    return s;
  // Falling off the end returns.
  Instr r;
  r.op = isEntry ? Op::Exit : Op::Ret;
  r.line = toks[pos - 1].line;
  mod->code.push_back(r);
  mod->funcs[index].end = uint32_t(mod->code.size());
  mod->funcs[index].regBase = firstReg;
  mod->funcs[index].ownRegs = mod->numRegs - firstReg;
  closeLabelScope();
  if (!unresolved.empty())
    return errLine(mod->code[unresolved[0].first].line,
                   "unknown label '" + unresolved[0].second + "'");
  computeReconvergence(mod->funcs[index].begin, mod->funcs[index].end);
  scopes.pop_back();
  curFunc = -1;
  return Status::success();
}

/// Gives every branch in [begin, end) its reconvergence pc: the first pc of
/// the immediate post-dominator of its basic block (kNoPc when that is the
/// function's exit).
void Parser::computeReconvergence(uint32_t begin, uint32_t end) {
  std::vector<Instr> &code = mod->code;
  auto endsBlock = [&](const Instr &I) {
    return I.op == Op::Bra || I.op == Op::Ret || I.op == Op::Exit ||
           I.op == Op::Trap;
  };
  std::vector<bool> leader(end - begin + 1, false);
  leader[0] = true;
  for (uint32_t pc = begin; pc < end; ++pc) {
    const Instr &I = code[pc];
    if (I.op == Op::Bra)
      leader[uint32_t(I.ops[0].imm) - begin] = true;
    if (endsBlock(I))
      leader[pc + 1 - begin] = true;
  }
  std::vector<uint32_t> blockStart, blockOf(end - begin);
  for (uint32_t pc = begin; pc < end; ++pc) {
    if (leader[pc - begin])
      blockStart.push_back(pc);
    blockOf[pc - begin] = uint32_t(blockStart.size() - 1);
  }
  size_t n = blockStart.size(), exitNode = n, words = (n + 64) / 64;
  std::vector<std::vector<uint32_t>> succ(n);
  for (size_t b = 0; b < n; ++b) {
    uint32_t last = (b + 1 < n ? blockStart[b + 1] : end) - 1;
    const Instr &I = code[last];
    bool guarded = I.guard != kNoReg;
    auto fall = [&] {
      succ[b].push_back(last + 1 < end ? blockOf[last + 1 - begin]
                                       : uint32_t(exitNode));
    };
    if (I.op == Op::Bra) {
      succ[b].push_back(blockOf[uint32_t(I.ops[0].imm) - begin]);
      if (guarded)
        fall();
    } else if (endsBlock(I)) {
      // Lanes that leave through a predicated exit/ret simply vanish: for
      // the lanes that stay, such a block only falls through. Otherwise a
      // predicated exit inside a loop would make the loop exit no
      // post-dominator of the loop's branches, and lanes leaving the loop
      // would not wait there for the others.
      if (guarded && (I.op == Op::Exit || I.op == Op::Trap ||
                      (I.op == Op::Ret && mod->funcs.size() &&
                       curFunc >= 0 && mod->funcs[curFunc].isEntry)))
        fall();
      else {
        succ[b].push_back(uint32_t(exitNode));
        if (guarded)
          fall();
      }
    } else {
      fall();
    }
  }
  // Post-dominator sets by iteration to a fixed point, on bit vectors.
  std::vector<std::vector<uint64_t>> pdom(n + 1,
                                          std::vector<uint64_t>(words, ~0ull));
  pdom[exitNode].assign(words, 0);
  pdom[exitNode][exitNode / 64] |= 1ull << (exitNode % 64);
  for (bool changed = true; changed;) {
    changed = false;
    for (size_t b = n; b-- > 0;) {
      std::vector<uint64_t> next(words, ~0ull);
      for (uint32_t s : succ[b])
        for (size_t w = 0; w < words; ++w)
          next[w] &= pdom[s][w];
      next[b / 64] |= 1ull << (b % 64);
      if (next != pdom[b]) {
        pdom[b] = std::move(next);
        changed = true;
      }
    }
  }
  auto count = [&](size_t b) {
    size_t c = 0;
    for (uint64_t w : pdom[b])
      c += size_t(__builtin_popcountll(w));
    return c;
  };
  std::vector<uint32_t> rpcOf(n, kNoPc);
  for (size_t b = 0; b < n; ++b) {
    if (count(b) > n + 1) // cannot reach the exit
      continue;
    // The immediate post-dominator is the strict post-dominator with the
    // most post-dominators of its own.
    size_t best = exitNode, bestCount = 0;
    for (size_t d = 0; d < n; ++d)
      if (d != b && (pdom[b][d / 64] >> (d % 64)) & 1) {
        size_t c = count(d);
        if (c > bestCount) {
          bestCount = c;
          best = d;
        }
      }
    rpcOf[b] = best == exitNode ? kNoPc : blockStart[best];
  }
  for (uint32_t pc = begin; pc < end; ++pc)
    if (code[pc].op == Op::Bra)
      code[pc].aux = rpcOf[blockOf[pc - begin]];
}

Status Parser::parseBody() {
  // The opening '{' has been consumed.
  while (true) {
    const Tok &t = peek();
    if (t.kind == Tok::End)
      return err(t, "unterminated function body");
    if (t.is('}')) {
      next();
      return Status::success();
    }
    Status s = parseStatement();
    if (!s)
      return s;
  }
}

Status Parser::parseRegDecl() {
  next(); // .reg
  Type type = Type::None;
  unsigned vec = 1;
  while (peek().kind == Tok::Ident && peek().text[0] == '.') {
    std::string_view m = next().text.substr(1);
    if (m == "v2" || m == "v4")
      vec = m[1] - '0';
    else if (typeByName(m) != Type::None)
      type = typeByName(m);
    else
      return err(peek(), "unsupported register attribute ." + std::string(m));
  }
  if (vec != 1)
    return err(peek(), "vector registers are not supported");
  while (true) {
    const Tok &n = next();
    if (n.kind != Tok::Ident)
      return err(n, "expected a register name");
    std::string base(n.text);
    if (peek().is('<')) {
      next();
      uint64_t count = next().ival;
      Status s = expect('>');
      if (!s)
        return s;
      // A warp holds 32 lanes of every register of its kernel's frame: the
      // module's registers so far bound that frame from above.
      uint64_t total = uint64_t(mod->numRegs) + count;
      if (count > maxMemory / kRegSlotBytes ||
          total > maxMemory / kRegSlotBytes || total >= kNoReg)
        return err(n, overBudget(count > UINT64_MAX / kRegSlotBytes
                                     ? UINT64_MAX
                                     : std::max(count, total) * kRegSlotBytes,
                                 "'.reg " + base + "<" +
                                     std::to_string(count) + ">' (" +
                                     std::to_string(total) +
                                     " registers in the module so far, 256 "
                                     "bytes each per warp)"));
      scopes.back().ranges.push_back(
          {base, count, mod->numRegs, type});
      regTypes.insert(regTypes.end(), count, type);
      mod->numRegs = uint32_t(total);
    } else {
      Sym sym;
      sym.kind = Sym::Reg;
      sym.reg = mod->numRegs++;
      sym.regType = type;
      regTypes.push_back(type);
      scopes.back()[base] = sym;
    }
    if (peek().is(',')) {
      next();
      continue;
    }
    return expect(';');
  }
}

Status Parser::parseStatement() {
  const Tok &t = peek();
  if (t.is('{')) {
    next();
    scopes.emplace_back();
    labelScopes.emplace_back();
    fixupScopes.emplace_back();
    Status s = parseBody();
    scopes.pop_back();
    closeLabelScope();
    return s;
  }
  if (t.kind == Tok::Ident && peek(1).is(':') && t.text[0] != '.') {
    if (!labelScopes.back()
             .emplace(std::string(t.text), uint32_t(mod->code.size()))
             .second)
      return err(t, "label '" + std::string(t.text) + "' defined twice");
    next();
    next();
    return Status::success();
  }
  if (t.kind == Tok::Ident && t.text[0] == '.') {
    if (t.text == ".reg")
      return parseRegDecl();
    if (t.text == ".loc" || t.text == ".file") {
      next();
      if (t.text == ".loc")
        recordLoc();
      else
        recordFile();
      skipLine(t.line);
      return Status::success();
    }
    if (t.text == ".pragma" || t.text == ".maxnreg" || t.text == ".maxntid" ||
        t.text == ".reqntid" || t.text == ".minnctapersm") {
      skipStatement();
      return Status::success();
    }
    if (t.text == ".shared" || t.text == ".global" || t.text == ".const")
      return parseVariable(false, true);
    if (t.text == ".local" || t.text == ".param") {
      // Per-thread variables: .local arrays, and the .param of call scopes.
      Space sp = t.text == ".local" ? Space::Local : Space::Param;
      ParamInfo p;
      std::string pn;
      Status s = parseParamDecl(p, pn);
      if (!s)
        return s;
      s = expect(';');
      if (!s)
        return s;
      Sym sym;
      sym.kind = Sym::Var;
      sym.space = sp;
      sym.addr = allocLocal(p.size, p.align, uint32_t(curFunc), sym.localPiece);
      scopes.back()[pn] = sym;
      return Status::success();
    }
    return err(t, "unsupported directive '" + std::string(t.text) +
                      "' in a function body");
  }
  return parseInstruction();
}

Status Parser::parseOperand(Operand &o, Instr &ins, int idx, Space &symSpace) {
  const Tok &t = peek();
  auto regOf = [&](const Tok &rt, uint32_t &slot) -> Status {
    std::optional<Sym> s = lookup(std::string(rt.text));
    if (!s || s->kind != Sym::Reg)
      return err(rt, "unknown register '" + std::string(rt.text) + "'");
    slot = s->reg;
    return Status::success();
  };
  if (t.is('{')) {
    next();
    o.kind = Operand::Vec;
    std::array<uint32_t, 8> regs;
    regs.fill(kNoReg);
    while (!peek().is('}')) {
      if (o.count == 8)
        return err(peek(), "vector operand with more than 8 elements");
      bool negImm = peek().is('-');
      if (negImm)
        next();
      const Tok &r = next();
      if (r.kind == Tok::Int || r.kind == Tok::F32Bits ||
          r.kind == Tok::F64Bits) {
        // An immediate element, as cuda_bf16.hpp writes `{0, %rs2}`.
        uint64_t v = r.ival;
        if (negImm)
          v = r.kind == Tok::Int       ? negateLiteral(v)
              : r.kind == Tok::F32Bits ? v ^ 0x80000000ull
                                       : v ^ 0x8000000000000000ull;
        o.immMask |= uint8_t(1u << o.count);
        regs[o.count++] = uint32_t(mod->vecImms.size());
        mod->vecImms.push_back(v);
      } else if (negImm) {
        return err(r,
                   "malformed vector element '-" + std::string(r.text) + "'");
      } else if (r.text == "_") {
        regs[o.count++] = kNoReg;
      } else {
        Status s = regOf(r, regs[o.count++]);
        if (!s)
          return s;
      }
      if (peek().is(','))
        next();
      if (peek().kind == Tok::End)
        return err(peek(), "unterminated vector operand");
    }
    next();
    if (o.immMask && o.count > 4)
      return err(t, "immediate elements in a vector operand of more than 4 "
                    "elements are not supported");
    if (o.count <= 4) {
      std::copy(regs.begin(), regs.begin() + 4, o.regs);
    } else {
      o.imm = int64_t(mod->wideVecs.size());
      mod->wideVecs.push_back(regs);
    }
    return Status::success();
  }
  if (t.is('[')) {
    next();
    o.kind = Operand::Addr;
    const Tok &b = next();
    if (b.kind == Tok::Int) {
      o.imm = int64_t(b.ival);
    } else if (b.kind == Tok::Ident) {
      std::optional<Sym> s = lookup(std::string(b.text));
      if (!s)
        return err(b, "unknown symbol '" + std::string(b.text) + "'");
      if (s->kind == Sym::Reg) {
        o.reg = s->reg;
      } else if (s->kind == Sym::Var) {
        o.imm = int64_t(s->addr);
        symSpace = s->space;
        noteSymRef(*s, idx);
      } else {
        return err(b, "'" + std::string(b.text) + "' is not an address");
      }
    } else {
      return err(b, "malformed address");
    }
    while (peek().is('+') || peek().is('-')) {
      bool neg = next().is('-');
      if (peek().is('-')) {
        neg = !neg;
        next();
      }
      const Tok &x = next();
      if (x.kind != Tok::Int)
        return err(x, "malformed address offset");
      // Offsets add modulo 2^64, as the address arithmetic does.
      o.imm = int64_t(uint64_t(o.imm) + (neg ? negateLiteral(x.ival) : x.ival));
    }
    return expect(']');
  }
  bool neg = false;
  if (t.is('!')) {
    next();
    const Tok &r = next();
    o.kind = Operand::Reg;
    o.neg = true;
    return regOf(r, o.reg);
  }
  if (t.is('-')) {
    next();
    neg = true;
  }
  const Tok &x = next();
  switch (x.kind) {
  case Tok::Int:
    o.kind = Operand::Imm;
    o.imm = int64_t(neg ? negateLiteral(x.ival) : x.ival);
    return Status::success();
  case Tok::F32Bits:
    o.kind = Operand::Imm;
    o.imm = int64_t(x.ival ^ (neg ? 0x80000000ull : 0));
    return Status::success();
  case Tok::F64Bits:
    o.kind = Operand::Imm;
    o.imm = int64_t(x.ival ^ (neg ? 0x8000000000000000ull : 0));
    return Status::success();
  case Tok::Decimal:
    o.kind = Operand::Imm;
    o.isDoubleLiteral = true;
    o.imm = int64_t(f64ToBits(neg ? -x.fval : x.fval));
    return Status::success();
  case Tok::Ident:
    break;
  default:
    return err(x, "malformed operand '" + std::string(x.text) + "'");
  }
  std::string id(x.text);
  static const std::unordered_map<std::string, Special> specials = {
      {"%tid.x", Special::TidX},
      {"%tid.y", Special::TidY},
      {"%tid.z", Special::TidZ},
      {"%ntid.x", Special::NtidX},
      {"%ntid.y", Special::NtidY},
      {"%ntid.z", Special::NtidZ},
      {"%ctaid.x", Special::CtaidX},
      {"%ctaid.y", Special::CtaidY},
      {"%ctaid.z", Special::CtaidZ},
      {"%nctaid.x", Special::NctaidX},
      {"%nctaid.y", Special::NctaidY},
      {"%nctaid.z", Special::NctaidZ},
      {"%laneid", Special::Laneid},
      {"%warpid", Special::Warpid},
      {"%nwarpid", Special::Nwarpid},
      {"%smid", Special::Smid},
      {"%nsmid", Special::Nsmid},
      {"%gridid", Special::Gridid},
      {"%clock", Special::Clock},
      {"%clock64", Special::Clock64},
      {"%globaltimer", Special::Globaltimer},
      {"%dynamic_smem_size", Special::DynSmem},
      {"%total_smem_size", Special::TotalSmem},
      {"%lanemask_eq", Special::LanemaskEq},
      {"%lanemask_lt", Special::LanemaskLt},
      {"%lanemask_le", Special::LanemaskLe},
      {"%lanemask_gt", Special::LanemaskGt},
      {"%lanemask_ge", Special::LanemaskGe},
  };
  if (id == "_") {
    o.kind = Operand::Sink;
    return Status::success();
  }
  auto sp = specials.find(id);
  if (sp != specials.end()) {
    o.kind = Operand::Spec;
    o.special = sp->second;
    return Status::success();
  }
  std::optional<Sym> s = lookup(id);
  if (s && s->kind == Sym::Reg) {
    o.kind = Operand::Reg;
    o.reg = s->reg;
    if (peek().is('|')) { // p|q or r|p
      next();
      uint32_t second;
      Status st = regOf(next(), second);
      if (!st)
        return st;
      o.kind = Operand::Vec;
      o.count = 2;
      o.regs[0] = s->reg;
      o.regs[1] = second;
    }
    return Status::success();
  }
  if (s && s->kind == Sym::Var) {
    o.kind = Operand::Imm;
    o.imm = int64_t(s->addr);
    symSpace = s->space;
    noteSymRef(*s, idx);
    return Status::success();
  }
  if (ins.op == Op::Bra && !s) {
    o.kind = Operand::Label;
    fixupScopes.back().push_back({uint32_t(mod->code.size()), id});
    return Status::success();
  }
  if (id[0] == '%')
    return err(x, "unknown register '" + id + "'");
  return err(x, "unknown symbol '" + id + "'");
}

Status Parser::parseInstruction() {
  Instr ins;
  const Tok *first = &peek();
  if (first->is('@')) {
    next();
    bool neg = false;
    if (peek().is('!')) {
      next();
      neg = true;
    }
    const Tok &p = next();
    std::optional<Sym> s = lookup(std::string(p.text));
    if (!s || s->kind != Sym::Reg)
      return err(p, "unknown predicate '" + std::string(p.text) + "'");
    ins.guard = s->reg;
    ins.guardNeg = neg;
    first = &peek();
  }
  const Tok &opTok = next();
  if (opTok.kind != Tok::Ident)
    return err(opTok, "expected an instruction, found '" +
                          std::string(opTok.text) + "'");
  ins.line = opTok.line;
  ins.srcFile = locFile;
  ins.srcLine = locLine;
  std::string_view full = opTok.text;
  std::vector<std::string_view> parts;
  size_t b = 0;
  for (size_t i = 0; i <= full.size(); ++i) {
    if (i == full.size() ||
        (full[i] == '.' && !(i > 0 && full[i - 1] == ':'))) {
      // Split on '.', but keep "::" qualifiers whole ("shared::cta").
      parts.push_back(full.substr(b, i - b));
      b = i + 1;
    }
  }
  std::string_view base = parts[0];
  std::vector<std::string_view> mods(parts.begin() + 1, parts.end());

  if (base == "call")
    return parseCall(ins, mods, opTok);
  auto &table = opTable();
  auto it = table.find(base);
  if (it == table.end())
    return err(opTok,
               "unsupported PTX instruction '" + std::string(full) + "'");
  const decode::Mnemonic &mn = *it->second.mnemonic;
  ins.op = mn.op;

  Space symSpace = Space::Generic;
  std::vector<Space> symSpaces;
  while (!peek().is(';')) {
    if (ins.nops == 6)
      return err(peek(), "too many operands for '" + std::string(full) + "'");
    Space ss = Space::Generic;
    Status s = parseOperand(ins.ops[ins.nops], ins, ins.nops, ss);
    if (!s)
      return s;
    if (ss != Space::Generic)
      symSpace = ss;
    ins.nops++;
    if (peek().is(','))
      next();
    else if (!peek().is(';'))
      return err(peek(), "expected ',' or ';' after an operand of '" +
                             std::string(full) + "', found '" +
                             std::string(peek().text) + "'");
  }
  next(); // ;
  // The cache policy operand of .L2::cache_hint is a hint: dropped.
  bool hinted =
      std::find(mods.begin(), mods.end(), "L2::cache_hint") != mods.end();
  if (hinted) {
    if (ins.nops == 0 || (ins.ops[ins.nops - 1].kind != Operand::Reg &&
                          ins.ops[ins.nops - 1].kind != Operand::Imm))
      return err(opTok, "'" + std::string(full) +
                            "' needs a cache policy register as its last "
                            "operand");
    --ins.nops;
  }
  if (ins.nops < mn.minOps || ins.nops > mn.maxOps)
    return err(opTok, "wrong number of operands (" + std::to_string(ins.nops) +
                          ") for '" + std::string(full) + "'");
  ins.flags |= mn.flags;
  Status s = decode(ins, *it->second.family, full, mods, opTok);
  if (!s)
    return s;
  if (ins.flags & (FCarryIn | FCarryOut)) {
    // The carry flag (CC.CF) is a hidden per-thread register of the module.
    if (ccReg == kNoReg) {
      ccReg = mod->numRegs++;
      regTypes.push_back(Type::Pred);
    }
    ins.aux = ccReg;
  }
  // The address of a variable in a generic access is its generic address.
  (void)symSpace;
  mod->code.push_back(ins);
  return Status::success();
}

/// `call[.uni] [(ret),] func[, (args)];` with .param symbols of the call
/// scope as arguments.
Status Parser::parseCall(Instr &ins, const std::vector<std::string_view> &mods,
                         const Tok &at) {
  ins.op = Op::Call;
  for (auto m : mods)
    if (m != "uni")
      return err(at,
                 "unsupported modifier '." + std::string(m) + "' in 'call'");
  detail::CallInfo ci;
  detail::LayoutInput::CallPieces pieces;
  auto parseList = [&](std::vector<uint32_t> &out,
                       std::vector<int32_t> &outPieces) -> Status {
    Status s = expect('(');
    if (!s)
      return s;
    while (!peek().is(')')) {
      const Tok &n = next();
      std::optional<Sym> sym = lookup(std::string(n.text));
      if (!sym || sym->kind != Sym::Var || sym->space != Space::Param)
        return err(n, "call argument '" + std::string(n.text) +
                          "' is not a .param variable of the call scope");
      out.push_back(uint32_t(sym->addr));
      outPieces.push_back(sym->localPiece);
      if (peek().is(','))
        next();
      if (peek().kind == Tok::End)
        return err(peek(), "unterminated call argument list");
    }
    next();
    return Status::success();
  };
  Status s;
  if (peek().is('(')) {
    s = parseList(ci.rets, pieces.rets);
    if (!s)
      return s;
    s = expect(',');
    if (!s)
      return s;
  }
  const Tok &fn = next();
  std::optional<Sym> f = lookup(std::string(fn.text));
  if (!f || f->kind != Sym::Func)
    return err(fn, "call of '" + std::string(fn.text) +
                       "', which is not a declared function (indirect calls "
                       "are not supported)");
  ci.callee = f->reg;
  if (peek().is(',')) {
    next();
    s = parseList(ci.args, pieces.args);
    if (!s)
      return s;
  }
  if (peek().is(','))
    return err(peek(), "indirect calls with prototypes are not supported");
  s = expect(';');
  if (!s)
    return s;
  const Function &callee = mod->funcs[ci.callee];
  if (ci.args.size() != callee.params.size() ||
      ci.rets.size() != callee.rets.size())
    return err(fn, "call of '" + callee.name +
                       "' with the wrong number of arguments or results");
  ins.aux = uint32_t(mod->calls.size());
  mod->calls.push_back(ci);
  layoutIn.callPieces.push_back(std::move(pieces));
  mod->code.push_back(ins);
  return Status::success();
}

Status Parser::decode(Instr &ins, const decode::Family &family,
                      std::string_view full,
                      const std::vector<std::string_view> &mods,
                      const Tok &at) {
  decode::Decoding d{ins, full, mods, regTypes, name, at.line, {}, false};
  for (std::string_view m : mods)
    if (!readModifier(d, family, m))
      return err(at, "unsupported modifier '." + std::string(m) + "' in '" +
                         std::string(full) + "'");
  Status st = checkOperandKinds(d);
  if (!st)
    return st;
  ins.type = d.type(0);
  return family.check(d);
}

Status Parser::finish() {
  for (auto &f : mod->funcs)
    if (f.begin == f.end && !f.isExtern && f.builtin == Function::Builtin::None)
      return errLine(f.line, "function '" + f.name +
                                 "' declared but not "
                                 "defined");
  // Registers and shared memory per kernel; dynamic shared memory starts
  // after each kernel's static variables.
  layoutIn.dynAlign = mod->sharedAlign;
  layoutIn.name = name;
  return detail::layoutKernels(*mod, layoutIn);
}

} // namespace

bool decode::reductionByName(std::string_view m, Sub &sub) {
  static const std::unordered_map<std::string_view, Sub> am = {
      {"add", Sub::AAdd},   {"min", Sub::AMin},  {"max", Sub::AMax},
      {"exch", Sub::AExch}, {"cas", Sub::ACas},  {"and", Sub::AAnd},
      {"or", Sub::AOr},     {"xor", Sub::AXor},  {"inc", Sub::AInc},
      {"dec", Sub::ADec},   {"popc", Sub::APopc}};
  auto it = am.find(m);
  if (it == am.end())
    return false;
  sub = it->second;
  return true;
}

void decode::Decoding::fixDoubleLiterals(Type ty) {
  for (auto &o : ins.ops)
    if (o.kind == Operand::Imm && o.isDoubleLiteral) {
      double v = bitsToF64(uint64_t(o.imm));
      if (ty == Type::F32)
        o.imm = f32ToBits(float(v));
      else if (ty != Type::F64)
        o.imm = int64_t(v);
      o.isDoubleLiteral = false;
    }
}

Status decode::Decoding::typed() {
  Status st = need(type(0) != Type::None, "expected a type");
  if (!st)
    return st;
  fixDoubleLiterals(type(0));
  return Status::success();
}

Expected<std::shared_ptr<detail::ModuleImpl>>
parsePtx(std::string_view text, const std::string &name,
         const GlobalAllocator &allocGlobal, uint64_t maxMemory) {
  auto toks = lex(text, name);
  if (!toks)
    return toks.takeError();
  Parser p(std::move(*toks), name, allocGlobal, maxMemory);
  return p.run();
}

} // namespace tilus::emu
