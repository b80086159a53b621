//===- DotAsync.cpp - The rules for the results of dot_async -------------===//
//
// `acc = dot_async(a, b, acc)` issues a dot as one wgmma group and does not
// wait for it; `wait_dot(n)` waits until at most n groups are in flight. The
// accumulator registers of an in-flight group belong to the tensor cores:
// the PTX ISA makes any access to them before the wait undefined. Before
// any IR is built, this walk over the kernel's tree enforces, per variable:
//
//   - a variable assigned `dot_async(...)` is in flight, of age 0; each
//     later dot_async makes every in-flight value one group older, and
//     wait_dot(n) completes those at least n groups old;
//   - an in-flight variable may only be the accumulator (third argument,
//     written as the bare name) of another dot_async, or be passed through
//     a wait_dot; any other read is an error, as are assigning it and
//     ending the kernel with it in flight;
//   - an in-flight variable fed to a dot_async assigned to another variable
//     gives that dot its registers: it may not be read again (consumed);
//   - a dot_async not assigned straight to a variable is read at once;
//   - a variable written as the bare `a` of a dot_async (its register A
//     operand on sm_90a) is held by that group, of the group's age: the
//     wgmma reads its registers until the wait that completes the group,
//     and each wait_dot passes it through, so that its registers stay live
//     and unchanged up to the wait (the codegen ties them there, as it ties
//     the accumulators). Being the `a` of another dot_async holds it for
//     that group too. Any other read or an assignment while it is held is
//     no error: the dot_asyncs holding it are marked to wait for their own
//     groups (kDotWaitsForA), as a dot_async with an `a` that is no bare
//     variable does, so the registers are free again at the next
//     statement.
//
// Control flow joins states conservatively: after an if, a value is in
// flight if it is on either branch, with the smaller age; a loop's body is
// walked from the join of the state before the loop and the state its
// body ends in (and at each break) until that is stable, then once more
// reporting errors. Ages are capped at 8 (wait_dot's count is at most 7).
// A wait_dot's count is read from a literal or a compile-time parameter;
// any other expression completes nothing here (the generator still checks
// it).
//
// The walk also records, for each wait_dot call, the variables that may be
// in flight there: the generator passes exactly those through the wait
// (tilus.wait_dot), so that every read of an accumulator after it depends
// on the wait in the IR, in LLVM and in the PTX.
//
// Not checked: that the shared tiles an in-flight dot_async reads are not
// overwritten before a wait covers it (the program's stages must ensure
// it, docs/language.md), and aliasing through values other than variables.
//
//===----------------------------------------------------------------------===//

#include "frontend/Generator.h"

#include <set>

using namespace tilus;
using namespace tilus::ast;
using namespace tilus::mlirgen;
using llvm::SMLoc;

namespace {

/// What a variable holds as far as dot_async is concerned. Variables absent
/// from the state hold ordinary values.
struct Flight {
  /// Consumed: the accumulator of a newer dot_async assigned elsewhere.
  bool consumed = false;
  /// Held: the `a` of an in-flight dot_async, not its result.
  bool operandA = false;
  /// Groups committed after this value's own (capped).
  int64_t age = 0;
  /// The dot_async that wrote the value (or consumed it).
  SMLoc issued;
  /// For a held `a`: the dot_async calls that may hold it.
  std::set<const Expr *> holders;

  bool operator==(const Flight &other) const {
    return consumed == other.consumed && operandA == other.operandA &&
           age == other.age && issued == other.issued &&
           holders == other.holders;
  }
};

using State = std::map<std::string, Flight>;

/// One more than the largest wait_dot count: a value this old is covered by
/// every wait.
constexpr int64_t kMaxAge = 8;
/// Loop fixpoints converge within (kMaxAge + 2) x variables steps; this
/// bounds one loop's iterations on any input.
constexpr int kMaxIterations = 64;
/// The silent walks of loop bodies one kernel may take: each level of
/// nested loops that issue dot_async multiplies them.
constexpr int64_t kMaxLoopWalks = 100000;

/// The state on either of two paths: consumed over in flight, in flight
/// over ordinary, the younger of two ages.
State join(const State &a, const State &b) {
  State out = a;
  for (const auto &[name, flight] : b) {
    auto [it, inserted] = out.insert({name, flight});
    if (inserted)
      continue;
    Flight &have = it->second;
    if (flight.operandA && have.operandA) {
      have.holders.insert(flight.holders.begin(), flight.holders.end());
      if (flight.age < have.age) {
        have.age = flight.age;
        have.issued = flight.issued;
      }
      continue;
    }
    if (flight.consumed && !have.consumed)
      have = flight;
    else if (flight.consumed == have.consumed && flight.age < have.age)
      have = flight;
  }
  return out;
}

class Checker {
public:
  Checker(DiagnosticEngine &diags, const std::map<std::string, int64_t> &consts,
          std::map<const Expr *, std::vector<WaitOperand>> &waits,
          std::set<const Expr *> &waitsForA)
      : diags(diags), consts(consts), waits(waits), waitsForA(waitsForA) {}

  bool run(const Kernel &kernel) {
    block(kernel.body);
    // A held `a` ends with its group, whose result is reported.
    for (const auto &[name, flight] : state)
      if (!flight.consumed && !flight.operandA) {
        error(flight.issued, "the kernel ends while the dot_async assigned "
                             "to '" +
                                 name +
                                 "' may be in flight; end with wait_dot(0)");
      }
    return !failed;
  }

private:
  void error(SMLoc loc, const llvm::Twine &message) {
    if (!reporting)
      return;
    failed = true;
    diags.error(loc, message);
  }
  void note(SMLoc loc, const llvm::Twine &message) {
    if (reporting && loc.isValid())
      diags.note(loc, message);
  }

  void block(const std::vector<StmtPtr> &body) {
    for (const StmtPtr &stmt : body)
      statement(*stmt);
  }

  void statement(const Stmt &stmt) {
    switch (stmt.kind) {
    case Stmt::Kind::Assign:
      return assign(stmt);
    case Stmt::Kind::Expr:
      return expr(*stmt.value);
    case Stmt::Kind::If: {
      expr(*stmt.value);
      State before = state;
      block(stmt.body);
      State then = std::move(state);
      state = std::move(before);
      block(stmt.elseBody);
      state = join(then, state);
      return;
    }
    case Stmt::Kind::For:
      expr(*stmt.start);
      expr(*stmt.stop);
      if (stmt.step)
        expr(*stmt.step);
      state.erase(stmt.name);
      return loop(stmt.body, nullptr);
    case Stmt::Kind::While:
      return loop(stmt.body, stmt.value.get());
    case Stmt::Kind::Group:
      // Straight-line code in the group's warps; what it leaves in flight
      // is left in flight at the kernel's end.
      expr(*stmt.start);
      expr(*stmt.stop);
      block(stmt.body);
      return;
    case Stmt::Kind::Break:
      breaks.push_back(state);
      return;
    case Stmt::Kind::Invalid:
      return;
    }
  }

  /// A loop whose body runs from the join of the entry state and its own
  /// end state; `cond` (a while loop's) is evaluated before each iteration.
  /// A body without dot_async only completes, consumes or drops values, so
  /// one walk is its fixpoint; nested loops with dot_async multiply the
  /// walks, which kMaxLoopWalks bounds on any input.
  void loop(const std::vector<StmtPtr> &body, const Expr *cond) {
    State before = state;
    std::vector<State> outerBreaks = std::move(breaks);
    bool outerReporting = reporting;
    State entry = before;
    reporting = false;
    bool issues = llvm::any_of(
        body, [](const StmtPtr &stmt) { return issuesDotAsync(*stmt); });
    for (int i = 0; issues && i < kMaxIterations; ++i) {
      if (++loopWalks > kMaxLoopWalks) {
        // Reported once, whether or not this walk reports.
        if (!tooComplex)
          diags.error(body.front()->loc,
                      "loops with dot_async nest too deeply to check the "
                      "uses of its results");
        tooComplex = true;
        failed = true;
        break;
      }
      state = entry;
      breaks.clear();
      if (cond)
        expr(*cond);
      block(body);
      State next = join(before, state);
      if (next == entry)
        break;
      entry = std::move(next);
    }
    reporting = outerReporting;
    state = entry;
    breaks.clear();
    if (cond)
      expr(*cond);
    block(body);
    State exit = entry;
    for (const State &at : breaks)
      exit = join(exit, at);
    breaks = std::move(outerBreaks);
    state = std::move(exit);
  }

  static bool issuesDotAsync(const Expr &e) {
    if (e.kind == Expr::Kind::Call && e.name == "dot_async")
      return true;
    return llvm::any_of(e.operands, [](const ExprPtr &operand) {
      return issuesDotAsync(*operand);
    });
  }
  static bool issuesDotAsync(const Stmt &stmt) {
    auto inBlock = [](const std::vector<StmtPtr> &block) {
      return llvm::any_of(
          block, [](const StmtPtr &s) { return issuesDotAsync(*s); });
    };
    return (stmt.value && issuesDotAsync(*stmt.value)) ||
           inBlock(stmt.body) || inBlock(stmt.elseBody);
  }

  void assign(const Stmt &stmt) {
    const Expr &value = *stmt.value;
    bool async = value.kind == Expr::Kind::Call && value.name == "dot_async";
    if (async)
      dotAsync(value, stmt.name);
    else
      expr(value);
    auto it = state.find(stmt.name);
    if (!async && it != state.end()) {
      if (it->second.operandA) {
        release(it->second);
      } else if (!it->second.consumed) {
        error(stmt.nameLoc, "'" + stmt.name +
                                "' is assigned while the dot_async that wrote "
                                "it may be in flight; wait_dot first");
        note(it->second.issued, "dot_async issued here");
      }
      state.erase(it);
    }
  }

  /// `target = dot_async(a, b, c)`; an empty target is a dot_async whose
  /// result is read at once.
  void dotAsync(const Expr &call, const std::string &target) {
    const Expr *heldA = nullptr;
    for (size_t i = 0; i < call.operands.size(); ++i) {
      const Expr &operand = *call.operands[i];
      if (i == 0 && operand.kind == Expr::Kind::Name) {
        // A held `a` may be the `a` of another group; anything else in
        // flight may not.
        auto it = state.find(operand.name);
        if (it == state.end() || it->second.operandA)
          heldA = &operand;
        else
          expr(operand);
        continue;
      }
      if (i != 2 || operand.kind != Expr::Kind::Name) {
        expr(operand);
        continue;
      }
      auto it = state.find(operand.name);
      if (it == state.end())
        continue;
      if (it->second.consumed) {
        expr(operand);
        continue;
      }
      // The new group takes over the registers of the in-flight value.
      if (operand.name != target)
        it->second = Flight{/*consumed=*/true, /*operandA=*/false, 0, call.loc};
    }
    for (auto &[name, flight] : state)
      if (!flight.consumed)
        flight.age = std::min(flight.age + 1, kMaxAge);
    if (heldA) {
      Flight &held = state[heldA->name];
      std::set<const Expr *> holders =
          held.operandA ? held.holders : std::set<const Expr *>{};
      holders.insert(&call);
      held = Flight{/*consumed=*/false, /*operandA=*/true, 0, call.loc,
                    std::move(holders)};
    }
    if (target.empty()) {
      error(call.loc, "the result of dot_async is in flight until a wait_dot "
                      "covers it: assign it to a variable "
                      "(acc = dot_async(a, b, acc))");
      return;
    }
    state[target] = Flight{/*consumed=*/false, /*operandA=*/false, 0, call.loc};
  }

  void waitDot(const Expr &call) {
    expr(*call.operands[0]);
    std::optional<int64_t> pending;
    const Expr &count = *call.operands[0];
    if (count.kind == Expr::Kind::IntLiteral)
      pending = count.intValue;
    else if (count.kind == Expr::Kind::Name && consts.count(count.name))
      pending = consts.at(count.name);
    std::vector<WaitOperand> &names = waits[&call];
    names.clear();
    for (auto it = state.begin(); it != state.end();) {
      if (it->second.consumed) {
        ++it;
        continue;
      }
      names.push_back({it->first, it->second.holders});
      if (pending && it->second.age >= *pending)
        it = state.erase(it);
      else
        ++it;
    }
  }

  void expr(const Expr &e) {
    switch (e.kind) {
    case Expr::Kind::Name:
      return read(e);
    case Expr::Kind::Call:
      if (e.name == "dot_async")
        return dotAsync(e, "");
      if (e.name == "wait_dot" && e.operands.size() == 1)
        return waitDot(e);
      [[fallthrough]];
    case Expr::Kind::Unary:
    case Expr::Kind::Binary:
    case Expr::Kind::List:
      for (const ExprPtr &operand : e.operands)
        expr(*operand);
      return;
    default:
      return;
    }
  }

  /// A held `a` read or reassigned: the dot_asyncs that may hold it wait for
  /// their own groups, so it is no longer held.
  void release(const Flight &held) {
    waitsForA.insert(held.holders.begin(), held.holders.end());
  }

  void read(const Expr &name) {
    auto it = state.find(name.name);
    if (it == state.end())
      return;
    if (it->second.operandA) {
      release(it->second);
      state.erase(it);
      return;
    }
    if (it->second.consumed) {
      error(name.loc, "'" + name.name +
                          "' was the accumulator of a dot_async issued while "
                          "it was in flight, which took over its registers; "
                          "read that dot_async's result after a wait_dot");
      note(it->second.issued, "dot_async issued here");
      return;
    }
    error(name.loc, "'" + name.name +
                        "' is read while the dot_async that wrote it may be "
                        "in flight; only the accumulator of another "
                        "dot_async may use it before a wait_dot covers it");
    note(it->second.issued, "dot_async issued here");
  }

  DiagnosticEngine &diags;
  const std::map<std::string, int64_t> &consts;
  std::map<const Expr *, std::vector<WaitOperand>> &waits;
  std::set<const Expr *> &waitsForA;
  State state;
  /// The states at the breaks of the innermost loop being walked.
  std::vector<State> breaks;
  bool reporting = true;
  bool failed = false;
  /// Silent walks of loop bodies so far, and whether they ran out.
  int64_t loopWalks = 0;
  bool tooComplex = false;
};

} // namespace

mlir::LogicalResult Generator::checkDotAsync(const Kernel &kernel) {
  waitDotOperands.clear();
  dotsWaitingForA.clear();
  Checker checker(diags, consts, waitDotOperands, dotsWaitingForA);
  return mlir::success(checker.run(kernel));
}
