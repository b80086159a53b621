//===- Parser.cpp - PTX text to the decoded program -----------------------===//
//
// A hand-written lexer and recursive-descent parser for the subset of PTX
// (ISA 7.0-9.0) that LLVM's NVPTX backend, nvcc and inline assembly of tile
// compilers produce. Every instruction is decoded here, once; anything the
// executor does not implement is rejected here with its name and line. The
// mnemonics and the modifiers particular to each family of instructions are
// decoded by the family (Decode.h), next to its executor.
//
// This file holds the lexer and the module's structure: directives,
// variables, functions and their blocks, register declarations.
// ParseInstruction.cpp reads the instructions; ParserImpl.h is the parser's
// state both share.
//
//===----------------------------------------------------------------------===//

#include "runtime/emu/ParserImpl.h"

#include "runtime/emu/Float.h"

#include <array>
#include <cctype>
#include <cstdlib>

namespace tilus::emu::ptxparse {

//===----------------------------------------------------------------------===//
// Lexer
//===----------------------------------------------------------------------===//

namespace {

bool isIdentStart(char c) {
  return std::isalpha((unsigned char)c) || c == '_' || c == '$' || c == '%' ||
         c == '.';
}
bool isIdentChar(char c) {
  return std::isalnum((unsigned char)c) || c == '_' || c == '$' || c == '.';
}

} // namespace

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
// Module structure
//===----------------------------------------------------------------------===//

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

} // namespace tilus::emu::ptxparse

namespace tilus::emu {

Expected<std::shared_ptr<detail::ModuleImpl>>
parsePtx(std::string_view text, const std::string &name,
         const GlobalAllocator &allocGlobal, uint64_t maxMemory) {
  auto toks = ptxparse::lex(text, name);
  if (!toks)
    return toks.takeError();
  ptxparse::Parser p(std::move(*toks), name, allocGlobal, maxMemory);
  return p.run();
}

} // namespace tilus::emu
