//===- ParserImpl.h - The PTX parser, shared by its two files ---*- C++ -*-===//
//
// Private to runtime/emu: the tokens, the symbols in scope and the parser's
// state. Parser.cpp reads the module's structure (directives, variables,
// functions, blocks, register declarations) and ParseInstruction.cpp one
// instruction with its operands, decoded by its family (Decode.h).
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_RUNTIME_EMU_PARSERIMPL_H
#define TILUS_RUNTIME_EMU_PARSERIMPL_H

#include "runtime/emu/Decode.h"
#include "runtime/emu/Layout.h"
#include "runtime/emu/Program.h"

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tilus::emu::ptxparse {

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

/// The two's-complement negation of an integer literal's bits. A literal is
/// read as unsigned, so `-9223372036854775808` (INT64_MIN) is 2^63 negated:
/// negating it as int64_t would overflow, modulo 2^64 it is itself, the bits
/// the literal stands for.
inline uint64_t negateLiteral(uint64_t v) { return uint64_t(0) - v; }

/// The tokens of \p s, ending with an End token.
Expected<std::vector<Tok>> lex(std::string_view s, const std::string &name);

/// The type a modifier names ("u32"), or Type::None.
Type typeByName(std::string_view s);
/// The state space a modifier names ("shared::cta"); false for none.
bool spaceByName(std::string_view s, Space &sp);

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

} // namespace tilus::emu::ptxparse

#endif // TILUS_RUNTIME_EMU_PARSERIMPL_H
