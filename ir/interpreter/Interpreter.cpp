//===- Interpreter.cpp - The reference interpreter of the VM --------------===//
//
// One walk over the kernel body per block. Every value lives in an
// environment keyed by its SSA value; tiles are shared immutable arrays of
// codes, shared tensors mutable per-block arrays.
//
// Thread groups run as cooperative tasks. A run of adjacent
// `tilus.thread_group` statements starts one task per group, each on its own
// OS thread, but only the task holding the baton runs: the first group runs
// until it finishes or reaches a `wait_barrier` whose phase has not
// completed; then the baton passes to the next task, in the groups' order,
// that can go on (not finished, and not waiting for a phase still
// incomplete). The order of the switches depends on the program alone, so a
// run is deterministic. When every unfinished task waits, nothing can arrive
// any more: a deadlock, reported at each waiting `wait_barrier`, where a
// device would hang. The statement after the run starts when every task has
// finished.
//
//===----------------------------------------------------------------------===//

#include "ir/interpreter/Interpreter.h"
#include "ir/interpreter/Shapes.h"

#include "ir/dialect/Tilus.h"
#include "support/Progress.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/Format.h"

#include <cmath>
#include <condition_variable>
#include <cstring>
#include <limits>
#include <memory>
#include <mutex>
#include <thread>
#include <variant>

using namespace mlir;
using namespace tilus;
using namespace tilus::interp;

namespace {

//===----------------------------------------------------------------------===//
// Run-time values
//===----------------------------------------------------------------------===//

/// The bits of a scalar of an MLIR integer, index or float type.
struct Scalar {
  uint64_t bits = 0;
};

/// A pointer parameter's memory.
struct BufferRef {
  uint8_t *data = nullptr;
  uint64_t bytes = 0;
};

/// A register tile: row-major element codes.
struct Tile {
  DType dtype = DType::f32();
  SmallVector<int64_t, 4> shape;
  std::vector<uint64_t> codes;
};
using TilePtr = std::shared_ptr<const Tile>;

struct GlobalTensor {
  BufferRef buffer;
  DType dtype = DType::f32();
  SmallVector<int64_t, 4> shape;
};

struct SharedTensor {
  DType dtype = DType::f32();
  SmallVector<int64_t, 4> shape;
  std::vector<uint64_t> codes;
  bool freed = false;
};
using SharedPtr = std::shared_ptr<SharedTensor>;

/// An mbarrier: the arrivals each phase expects, those still pending in
/// the current phase, and how many phases have completed (the current
/// phase's parity is `completed % 2`).
struct Barrier {
  int64_t count = 1;
  int64_t pending = 1;
  uint64_t completed = 0;

  void arrive() {
    if (--pending == 0) {
      ++completed;
      pending = count;
    }
  }
};
using BarrierPtr = std::shared_ptr<Barrier>;

using RtValue = std::variant<std::monostate, Scalar, BufferRef, TilePtr,
                             GlobalTensor, SharedPtr, BarrierPtr>;

//===----------------------------------------------------------------------===//
// Integer and float helpers shared by scalars and tile elements
//===----------------------------------------------------------------------===//

uint64_t lowMask(unsigned width) {
  return width >= 64 ? ~uint64_t(0) : (uint64_t(1) << width) - 1;
}

int64_t signExtend(uint64_t bits, unsigned width) {
  if (width >= 64)
    return static_cast<int64_t>(bits);
  uint64_t sign = uint64_t(1) << (width - 1);
  bits &= lowMask(width);
  return static_cast<int64_t>((bits ^ sign) - sign);
}

/// Quotient truncated toward zero. Division by zero gives all ones and
/// INT_MIN / -1 wraps, as the emulator's `div` (the ISA leaves both open).
uint64_t intDiv(uint64_t a, uint64_t b, unsigned width, bool isSigned) {
  uint64_t mask = lowMask(width);
  if (!isSigned) {
    a &= mask;
    b &= mask;
    return b == 0 ? mask : a / b;
  }
  int64_t sa = signExtend(a, width), sb = signExtend(b, width);
  if (sb == 0)
    return mask;
  if (sb == -1)
    return (uint64_t(0) - uint64_t(sa)) & mask;
  return uint64_t(sa / sb) & mask;
}

/// Remainder with the sign of the dividend; x % 0 is x (as the emulator).
uint64_t intRem(uint64_t a, uint64_t b, unsigned width, bool isSigned) {
  uint64_t mask = lowMask(width);
  if (!isSigned) {
    a &= mask;
    b &= mask;
    return b == 0 ? a : a % b;
  }
  int64_t sa = signExtend(a, width), sb = signExtend(b, width);
  if (sb == 0)
    return a & mask;
  if (sb == -1)
    return 0;
  return uint64_t(sa % sb) & mask;
}

int intCompare(uint64_t a, uint64_t b, unsigned width, bool isSigned) {
  if (isSigned) {
    int64_t sa = signExtend(a, width), sb = signExtend(b, width);
    return sa < sb ? -1 : sa > sb ? 1 : 0;
  }
  a &= lowMask(width);
  b &= lowMask(width);
  return a < b ? -1 : a > b ? 1 : 0;
}

/// min/max of floats as PTX `min`/`max`: a NaN operand gives the other
/// operand, and -0 orders below +0 (arith.minnumf/maxnumf; the NaN-
/// propagating forms test for NaN first).
double floatMinMax(double a, double b, bool isMax) {
  if (std::isnan(a))
    return b;
  if (std::isnan(b))
    return a;
  if (a == b && a == 0)
    return (std::signbit(a) != isMax) ? a : b;
  return isMax ? std::max(a, b) : std::min(a, b);
}

/// Float to integer: truncation toward zero, saturation, NaN to 0 (the
/// dtype library's rule, PTX `cvt.rzi.sat`).
uint64_t floatToInt(double value, unsigned width, bool isSigned) {
  if (std::isnan(value))
    return 0;
  value = std::trunc(value);
  if (isSigned) {
    double hi = std::ldexp(1.0, int(width) - 1);
    if (value >= hi)
      return lowMask(width - 1);
    if (value < -hi)
      return (uint64_t(1) << (width - 1)) & lowMask(width);
    return uint64_t(int64_t(value)) & lowMask(width);
  }
  if (value <= 0)
    return 0;
  if (value >= std::ldexp(1.0, int(width)))
    return lowMask(width);
  return uint64_t(value);
}

/// The number an integer code of `dtype` denotes, as an int64 (u64 codes
/// above INT64_MAX wrap, which arithmetic modulo 2^64 does not notice).
int64_t intValue(DType dtype, uint64_t code) {
  if (dtype.kind() == DType::Kind::SignedInt)
    return signExtend(code, dtype.bitWidth());
  if (dtype.isBool())
    return code != 0;
  return static_cast<int64_t>(code & dtype.codeMask());
}

//===----------------------------------------------------------------------===//
// Element semantics of the tile instructions
//===----------------------------------------------------------------------===//

enum class BinaryKind { Add, Sub, Mul, Div, Rem, Min, Max, And, Or, Xor, Shl, Shr };

/// One rounding from the exact result: IEEE overflow to infinity where the
/// type has it.
uint64_t roundFloat(DType dtype, double value) {
  return encode(dtype, value, Overflow::Infinity);
}

uint64_t binaryElement(BinaryKind kind, DType dtype, uint64_t a, uint64_t b) {
  if (dtype.isFloat()) {
    double x = decode(dtype, a), y = decode(dtype, b);
    switch (kind) {
    case BinaryKind::Add:
      return roundFloat(dtype, x + y);
    case BinaryKind::Sub:
      return roundFloat(dtype, x - y);
    case BinaryKind::Mul:
      return roundFloat(dtype, x * y);
    case BinaryKind::Div:
      return roundFloat(dtype, x / y);
    case BinaryKind::Rem:
      return roundFloat(dtype, std::fmod(x, y));
    // Tile min and max (and reduce_max/min) propagate NaN, as the
    // lowering's arith.minimumf/maximumf (PTX min.NaN/max.NaN) do.
    case BinaryKind::Min:
    case BinaryKind::Max:
      if (std::isnan(x) || std::isnan(y))
        return roundFloat(dtype, std::numeric_limits<double>::quiet_NaN());
      return roundFloat(dtype, floatMinMax(x, y, kind == BinaryKind::Max));
    default:
      return 0; // The verifier rejects bitwise ops on floats.
    }
  }
  if (dtype.isBool()) {
    bool x = a != 0, y = b != 0;
    switch (kind) {
    case BinaryKind::And:
      return x && y;
    case BinaryKind::Or:
      return x || y;
    case BinaryKind::Xor:
      return x != y;
    default:
      return 0; // The verifier rejects arithmetic on bool.
    }
  }
  unsigned width = dtype.bitWidth();
  bool isSigned = dtype.isSigned();
  uint64_t mask = lowMask(width);
  switch (kind) {
  case BinaryKind::Add:
    return (a + b) & mask;
  case BinaryKind::Sub:
    return (a - b) & mask;
  case BinaryKind::Mul:
    return (a * b) & mask;
  case BinaryKind::Div:
    return intDiv(a, b, width, isSigned);
  case BinaryKind::Rem:
    return intRem(a, b, width, isSigned);
  case BinaryKind::Min:
    return (intCompare(a, b, width, isSigned) <= 0 ? a : b) & mask;
  case BinaryKind::Max:
    return (intCompare(a, b, width, isSigned) >= 0 ? a : b) & mask;
  case BinaryKind::And:
    return a & b & mask;
  case BinaryKind::Or:
    return (a | b) & mask;
  case BinaryKind::Xor:
    return (a ^ b) & mask;
  case BinaryKind::Shl: // the count is b's code, an unsigned number
    return b < width ? (a << b) & mask : 0;
  case BinaryKind::Shr:
    if (!isSigned)
      return b < width ? (a & mask) >> b : 0;
    return uint64_t(signExtend(a, width) >> std::min<uint64_t>(b, width - 1)) &
           mask;
  }
  return 0;
}

uint64_t unaryElement(UnaryKind kind, DType dtype, uint64_t a) {
  if (!dtype.isFloat()) {
    uint64_t mask = lowMask(dtype.bitWidth());
    switch (kind) {
    case UnaryKind::neg:
      return (uint64_t(0) - a) & mask;
    case UnaryKind::abs:
      return dtype.isSigned() && signExtend(a, dtype.bitWidth()) < 0
                 ? (uint64_t(0) - a) & mask
                 : a & mask;
    case UnaryKind::bitnot:
      return dtype.isBool() ? uint64_t(a == 0) : ~a & mask;
    default:
      return 0; // The verifier rejects the float functions on integers.
    }
  }
  uint64_t sign = uint64_t(1) << (dtype.bitWidth() - 1);
  // Sign changes are exact on the code, NaN payloads included.
  if (kind == UnaryKind::neg)
    return a ^ sign;
  if (kind == UnaryKind::abs)
    return a & ~sign;
  return roundFloat(dtype, evalFloatFunction(kind, decode(dtype, a)));
}

bool compareElement(CmpPredicate predicate, DType dtype, uint64_t a,
                    uint64_t b) {
  int order;
  if (dtype.isFloat()) {
    double x = decode(dtype, a), y = decode(dtype, b);
    if (std::isnan(x) || std::isnan(y))
      return predicate == CmpPredicate::ne;
    order = x < y ? -1 : x > y ? 1 : 0;
  } else if (dtype.isBool()) {
    order = int(a != 0) - int(b != 0);
  } else {
    order = intCompare(a, b, dtype.bitWidth(), dtype.isSigned());
  }
  switch (predicate) {
  case CmpPredicate::eq:
    return order == 0;
  case CmpPredicate::ne:
    return order != 0;
  case CmpPredicate::lt:
    return order < 0;
  case CmpPredicate::le:
    return order <= 0;
  case CmpPredicate::gt:
    return order > 0;
  case CmpPredicate::ge:
    return order >= 0;
  }
  return false;
}

/// `label[i, j] = value` or `label = value`, with the conversions the
/// device's `tilus.print` passes to printf: floats `%g` of the value as a
/// double, integers in decimal, bool 0 or 1.
void printElement(raw_ostream &os, DType dtype, uint64_t code) {
  if (dtype.isFloat()) {
    os << llvm::format("%g", decode(dtype, code));
    return;
  }
  if (dtype.isBool()) {
    os << (code != 0 ? 1 : 0);
    return;
  }
  if (dtype.kind() == DType::Kind::SignedInt)
    os << signExtend(code, dtype.bitWidth());
  else
    os << (code & dtype.codeMask());
}

//===----------------------------------------------------------------------===//
// The interpreter of one block
//===----------------------------------------------------------------------===//

/// The MLIR types scalars may have: integers, index, f16/bf16/f32/f64 and
/// tilus element types.
struct ScalarType {
  enum class Kind { Int, Float, F64, Unsupported };
  Kind kind = Kind::Unsupported;
  unsigned width = 0;         ///< of an integer
  DType dtype = DType::f32(); ///< of a float

  static ScalarType of(Type type) {
    ScalarType s;
    if (auto integer = dyn_cast<IntegerType>(type)) {
      s.kind = Kind::Int;
      s.width = integer.getWidth();
    } else if (isa<IndexType>(type)) {
      s.kind = Kind::Int;
      s.width = 64;
    } else if (type.isF64()) {
      s.kind = Kind::F64;
    } else if (std::optional<DType> dtype = getDType(type)) {
      if (dtype->isFloat()) {
        s.kind = Kind::Float;
        s.dtype = *dtype;
      } else {
        s.kind = Kind::Int;
        s.width = dtype->isBool() ? 1 : dtype->bitWidth();
      }
    }
    return s;
  }
  bool isSupported() const { return kind != Kind::Unsupported && width <= 64; }
  double toDouble(uint64_t bits) const {
    if (kind == Kind::F64) {
      double value;
      std::memcpy(&value, &bits, sizeof value);
      return value;
    }
    return decode(dtype, bits);
  }
  uint64_t fromDouble(double value) const {
    if (kind == Kind::F64) {
      uint64_t bits;
      std::memcpy(&bits, &value, sizeof bits);
      return bits;
    }
    return roundFloat(dtype, value);
  }
};

class BlockInterpreter {
public:
  BlockInterpreter(const InterpreterOptions &options,
                   std::array<int64_t, 3> blockIdx)
      : options(options), blockIdx(blockIdx) {}

  LogicalResult run(func::FuncOp kernel, ArrayRef<RtValue> args) {
    SmallVector<RtValue> results;
    return runRegion(kernel.getBody(), args, results);
  }

private:
  /// Runs the single block of `region` with `args` bound to its arguments
  /// and returns the operands of its terminator.
  LogicalResult runRegion(Region &region, ArrayRef<RtValue> args,
                          SmallVectorImpl<RtValue> &results) {
    if (!region.hasOneBlock())
      return region.getParentOp()->emitError(
          "the interpreter runs only single-block regions");
    Block &block = region.front();
    for (auto [arg, value] : llvm::zip(block.getArguments(), args))
      env[arg] = value;
    for (auto it = block.begin(), end = std::prev(block.end()); it != end;) {
      if (auto group = dyn_cast<ThreadGroupOp>(*it)) {
        SmallVector<ThreadGroupOp> groups;
        for (; it != end && isa<ThreadGroupOp>(*it); ++it)
          groups.push_back(cast<ThreadGroupOp>(*it));
        if (failed(runGroups(groups)))
          return failure();
        continue;
      }
      if (failed(runOp(*it++)))
        return failure();
    }
    Operation *terminator = block.getTerminator();
    if (!isa<scf::YieldOp, scf::ConditionOp, func::ReturnOp>(terminator))
      return unsupported(*terminator);
    results.clear();
    for (Value operand : terminator->getOperands())
      results.push_back(env.lookup(operand));
    return success();
  }

  //===--- Thread groups -------------------------------------------------===//

  /// One group's task: its body runs on `thread` while it holds the baton.
  struct Task {
    ThreadGroupOp group;
    bool done = false;
    bool failed = false;
    /// The wait the task is blocked in, if any, and the parity it waits for.
    WaitBarrierOp waiting;
    BarrierPtr barrier;
    uint64_t parity = 0;
  };

  /// The tasks of the run of groups being interpreted, and the baton.
  struct Scheduler {
    std::mutex mutex;
    std::condition_variable wake;
    SmallVector<Task> tasks;
    /// The task holding the baton; tasks.size() once every task is done or
    /// the run is abandoned.
    size_t current = 0;
    /// Every unfinished task waits (or one failed): the waits fail.
    bool abandoned = false;

    bool canRun(const Task &task) const {
      if (task.done)
        return false;
      return !task.barrier || task.barrier->completed % 2 != task.parity;
    }
    /// Passes the baton from `from` to the next task that can run, in the
    /// groups' order (`from` itself last); abandons the run when none can.
    void pass(size_t from) {
      size_t n = tasks.size();
      for (size_t step = 1; step <= n; ++step) {
        size_t next = (from + step) % n;
        if (canRun(tasks[next])) {
          current = next;
          wake.notify_all();
          return;
        }
      }
      current = n;
      abandoned = llvm::any_of(tasks, [](const Task &t) { return !t.done; });
      wake.notify_all();
    }
  };

  LogicalResult runGroups(ArrayRef<ThreadGroupOp> groups) {
    Scheduler scheduler;
    for (ThreadGroupOp group : groups)
      scheduler.tasks.push_back(Task{group});
    sched = &scheduler;
    std::vector<std::thread> threads;
    for (size_t i = 0; i < groups.size(); ++i)
      threads.emplace_back([this, &scheduler, i] {
        std::unique_lock<std::mutex> lock(scheduler.mutex);
        scheduler.wake.wait(lock, [&] {
          return scheduler.current == i || scheduler.abandoned;
        });
        Task &task = scheduler.tasks[i];
        if (!scheduler.abandoned) {
          lock.unlock();
          bool ok = succeeded(runGroupBody(task.group));
          lock.lock();
          task.failed = !ok;
          if (!ok)
            scheduler.abandoned = true;
        } else {
          task.failed = true;
        }
        task.done = true;
        scheduler.pass(i);
      });
    for (std::thread &thread : threads)
      thread.join();
    sched = nullptr;
    bool failedAny = false, deadlock = false;
    for (Task &task : scheduler.tasks) {
      failedAny |= task.failed;
      deadlock |= bool(task.waiting);
    }
    if (deadlock && llvm::none_of(scheduler.tasks, [](const Task &t) {
          return t.failed && !t.waiting;
        })) {
      // One error, at the first waiting group, naming every waiting group.
      std::string text;
      llvm::raw_string_ostream os(text);
      WaitBarrierOp first;
      for (Task &task : scheduler.tasks) {
        if (!task.waiting)
          continue;
        if (!first)
          first = task.waiting;
        else
          os << "; ";
        os << "the thread group of warps " << task.group.getFirstWarp()
           << " .. "
           << task.group.getFirstWarp() + task.group.getNumWarps() - 1
           << " waits for a phase of parity " << task.parity << " with "
           << task.barrier->pending << " of its " << task.barrier->count
           << " arrivals pending";
      }
      first.emitError("deadlock: every unfinished thread group waits on a "
                      "barrier that nothing can complete: ")
          << os.str();
    }
    return failure(failedAny);
  }

  LogicalResult runGroupBody(ThreadGroupOp group) {
    for (Operation &op : group.getBody().front())
      if (failed(runOp(op)))
        return failure();
    return success();
  }

  /// In a thread group's task, blocks until the phase of `parity` of
  /// `barrier` completes, running the other tasks meanwhile; fails when
  /// they cannot complete it (the run is abandoned).
  LogicalResult blockOn(WaitBarrierOp op, BarrierPtr barrier,
                        uint64_t parity) {
    Scheduler &scheduler = *sched;
    std::unique_lock<std::mutex> lock(scheduler.mutex);
    size_t me = scheduler.current;
    Task &task = scheduler.tasks[me];
    task.waiting = op;
    task.barrier = barrier;
    task.parity = parity;
    scheduler.pass(me);
    scheduler.wake.wait(lock, [&] {
      return scheduler.current == me || scheduler.abandoned;
    });
    if (scheduler.current != me)
      return failure();
    task.waiting = nullptr;
    task.barrier = nullptr;
    return success();
  }

  LogicalResult unsupported(Operation &op) {
    return op.emitError("the interpreter does not support op '")
           << op.getName() << "'";
  }

  //===--- Environment ---------------------------------------------------===//

  uint64_t scalar(Value value) {
    return std::get<Scalar>(env.lookup(value)).bits;
  }
  /// A signless integer operand (offsets, extents) as a signed number.
  int64_t signedScalar(Value value) {
    return signExtend(scalar(value), ScalarType::of(value.getType()).width);
  }
  const Tile &tile(Value value) {
    return *std::get<TilePtr>(env.lookup(value));
  }
  void setScalar(Value value, uint64_t bits) {
    ScalarType type = ScalarType::of(value.getType());
    if (type.kind == ScalarType::Kind::Int)
      bits &= lowMask(type.width);
    env[value] = Scalar{bits};
  }
  void setTile(Value value, Tile result) {
    env[value] = std::make_shared<const Tile>(std::move(result));
  }
  /// An empty tile of `value`'s type, its codes zero.
  static Tile makeTile(Value value) {
    auto type = cast<TileType>(value.getType());
    Tile result;
    result.dtype = *getDType(type.getElementType());
    result.shape.assign(type.getShape().begin(), type.getShape().end());
    result.codes.assign(numElements(result.shape), 0);
    return result;
  }

  //===--- Dispatch ------------------------------------------------------===//

  LogicalResult runOp(Operation &op) {
    for (Type type : op.getResultTypes())
      if (!isa<TileType, GlobalTensorType, SharedTensorType, BarrierType>(type) &&
          !ScalarType::of(type).isSupported())
        return op.emitError("the interpreter does not support values of type ")
               << type;
    return llvm::TypeSwitch<Operation *, LogicalResult>(&op)
        // Scalars.
        .Case<arith::ConstantOp>([&](auto c) { return runConstant(c); })
        .Case<arith::AddIOp, arith::SubIOp, arith::MulIOp, arith::DivSIOp,
              arith::DivUIOp, arith::RemSIOp, arith::RemUIOp,
              arith::CeilDivSIOp, arith::CeilDivUIOp, arith::FloorDivSIOp,
              arith::MinSIOp, arith::MaxSIOp, arith::MinUIOp, arith::MaxUIOp,
              arith::AndIOp, arith::OrIOp, arith::XOrIOp, arith::ShLIOp,
              arith::ShRSIOp, arith::ShRUIOp>(
            [&](Operation *o) { return runIntBinary(*o); })
        .Case<arith::AddFOp, arith::SubFOp, arith::MulFOp, arith::DivFOp,
              arith::RemFOp, arith::MinimumFOp, arith::MaximumFOp,
              arith::MinNumFOp, arith::MaxNumFOp>(
            [&](Operation *o) { return runFloatBinary(*o); })
        .Case<arith::NegFOp>([&](arith::NegFOp o) {
          ScalarType t = ScalarType::of(o.getType());
          setScalar(o, t.fromDouble(-t.toDouble(scalar(o.getOperand()))));
          return success();
        })
        .Case<arith::CmpIOp>([&](auto o) { return runCmpI(o); })
        .Case<arith::CmpFOp>([&](auto o) { return runCmpF(o); })
        .Case<arith::SelectOp>([&](arith::SelectOp o) -> LogicalResult {
          if (!ScalarType::of(o.getCondition().getType()).isSupported())
            return unsupported(op);
          setScalar(o, scalar(o.getCondition()) ? scalar(o.getTrueValue())
                                                : scalar(o.getFalseValue()));
          return success();
        })
        .Case<arith::ExtSIOp, arith::ExtUIOp, arith::TruncIOp,
              arith::IndexCastOp, arith::IndexCastUIOp, arith::SIToFPOp,
              arith::UIToFPOp, arith::FPToSIOp, arith::FPToUIOp, arith::ExtFOp,
              arith::TruncFOp, arith::BitcastOp>(
            [&](Operation *o) { return runScalarCast(*o); })
        // Control flow.
        .Case<scf::ForOp>([&](auto o) { return runFor(o); })
        .Case<scf::IfOp>([&](auto o) { return runIf(o); })
        .Case<scf::WhileOp>([&](auto o) { return runWhile(o); })
        // Tile instructions.
        .Case<GlobalViewOp>([&](auto o) { return runGlobalView(o); })
        .Case<BlockIdxOp>([&](BlockIdxOp o) {
          setScalar(o, uint64_t(blockIdx[o.getDim()]));
          return success();
        })
        .Case<ThreadIdxOp>([&](ThreadIdxOp o) -> LogicalResult {
          return o.emitError("the interpreter does not support op "
                             "'tilus.thread_idx': it runs each block once, "
                             "not once per thread");
        })
        .Case<FullOp>([&](FullOp o) {
          Tile result = makeTile(o);
          std::fill(result.codes.begin(), result.codes.end(),
                    scalar(o.getValue()));
          setTile(o, std::move(result));
          return success();
        })
        .Case<LoadGlobalOp>([&](auto o) { return runLoadGlobal(o); })
        .Case<StoreGlobalOp>([&](auto o) { return runStoreGlobal(o); })
        .Case<AtomicAddOp>([&](auto o) { return runAtomicAdd(o); })
        .Case<AddOp>([&](AddOp o) { return runBinary(o, BinaryKind::Add); })
        .Case<SubOp>([&](SubOp o) { return runBinary(o, BinaryKind::Sub); })
        .Case<MulOp>([&](MulOp o) { return runBinary(o, BinaryKind::Mul); })
        .Case<DivOp>([&](DivOp o) { return runBinary(o, BinaryKind::Div); })
        .Case<RemOp>([&](RemOp o) { return runBinary(o, BinaryKind::Rem); })
        .Case<MinOp>([&](MinOp o) { return runBinary(o, BinaryKind::Min); })
        .Case<MaxOp>([&](MaxOp o) { return runBinary(o, BinaryKind::Max); })
        .Case<AndOp>([&](AndOp o) { return runBinary(o, BinaryKind::And); })
        .Case<OrOp>([&](OrOp o) { return runBinary(o, BinaryKind::Or); })
        .Case<XorOp>([&](XorOp o) { return runBinary(o, BinaryKind::Xor); })
        .Case<ShlOp>([&](ShlOp o) { return runBinary(o, BinaryKind::Shl); })
        .Case<ShrOp>([&](ShrOp o) { return runBinary(o, BinaryKind::Shr); })
        .Case<ArangeOp>([&](auto o) { return runArange(o); })
        .Case<BroadcastOp>([&](auto o) { return runBroadcast(o); })
        .Case<ConvertLayoutOp>([&](ConvertLayoutOp o) {
          env[o] = env.lookup(o.getSource());
          return success();
        })
        .Case<CastOp>([&](auto o) { return runCast(o); })
        .Case<ViewOp>([&](auto o) { return runView(o); })
        .Case<SliceOp>([&](auto o) { return runSlice(o); })
        .Case<TransposeOp>([&](auto o) { return runTranspose(o); })
        .Case<ReshapeOp>([&](ReshapeOp o) {
          // Row-major codes are the same under any shape.
          Tile result = tile(o.getSource());
          result.shape = makeTile(o).shape;
          setTile(o, std::move(result));
          return success();
        })
        .Case<ItemOp>([&](ItemOp o) {
          setScalar(o, tile(o.getSource()).codes[0]);
          return success();
        })
        .Case<UnaryOp>([&](UnaryOp o) {
          // A float scalar's bits are its code in the dtype library.
          if (!isa<TileType>(o.getType())) {
            setScalar(o, unaryElement(o.getKind(), *getDType(o.getType()),
                                      scalar(o.getSource())));
            return success();
          }
          const Tile &source = tile(o.getSource());
          Tile result = makeTile(o);
          for (size_t i = 0; i < result.codes.size(); ++i)
            result.codes[i] =
                unaryElement(o.getKind(), source.dtype, source.codes[i]);
          setTile(o, std::move(result));
          return success();
        })
        .Case<CmpOp>([&](CmpOp o) {
          const Tile &lhs = tile(o.getLhs()), &rhs = tile(o.getRhs());
          Tile result = makeTile(o);
          for (size_t i = 0; i < result.codes.size(); ++i)
            result.codes[i] = compareElement(o.getPredicate(), lhs.dtype,
                                             lhs.codes[i], rhs.codes[i]);
          setTile(o, std::move(result));
          return success();
        })
        .Case<WhereOp>([&](WhereOp o) {
          const Tile &cond = tile(o.getCondition());
          const Tile &a = tile(o.getTrueValue()), &b = tile(o.getFalseValue());
          Tile result = makeTile(o);
          for (size_t i = 0; i < result.codes.size(); ++i)
            result.codes[i] = cond.codes[i] ? a.codes[i] : b.codes[i];
          setTile(o, std::move(result));
          return success();
        })
        .Case<ReduceOp>([&](auto o) { return runReduce(o); })
        .Case<DotOp>([&](auto o) { return runDot(o); })
        // An async dot completes at once here: waiting passes the tiles on.
        .Case<WaitDotOp>([&](WaitDotOp o) {
          for (auto [operand, result] :
               llvm::zip(o.getAccumulators(), o.getResults()))
            env[result] = env.lookup(operand);
          return success();
        })
        .Case<AllocSharedOp>([&](AllocSharedOp o) {
          auto type = o.getType();
          auto shared = std::make_shared<SharedTensor>();
          shared->dtype = *getDType(type.getElementType());
          shared->shape.assign(type.getShape().begin(), type.getShape().end());
          // Undefined on a device; zeros here, so results never depend on
          // host memory.
          shared->codes.assign(numElements(shared->shape), 0);
          env[o] = shared;
          return success();
        })
        .Case<FreeSharedOp>([&](FreeSharedOp o) -> LogicalResult {
          SharedPtr shared = std::get<SharedPtr>(env.lookup(o.getTensor()));
          if (shared->freed)
            return o.emitError("shared tensor is freed twice");
          shared->freed = true;
          return success();
        })
        .Case<LoadSharedOp>([&](auto o) { return runLoadShared(o); })
        .Case<StoreSharedOp>([&](auto o) { return runStoreShared(o); })
        .Case<CopyAsyncOp>([&](auto o) { return runCopyAsync(o); })
        .Case<AllocBarrierOp>([&](AllocBarrierOp o) {
          auto barrier = std::make_shared<Barrier>();
          barrier->count = barrier->pending = o.getCount();
          env[o] = barrier;
          return success();
        })
        .Case<CopyTmaOp>([&](auto o) { return runCopyTma(o); })
        .Case<WaitBarrierOp>([&](auto o) { return runWaitBarrier(o); })
        .Case<ArriveBarrierOp>([&](ArriveBarrierOp o) {
          BarrierPtr barrier = std::get<BarrierPtr>(env.lookup(o.getBarrier()));
          for (int64_t t = 0, n = getKernelNumThreads(o); t < n; ++t)
            barrier->arrive();
          return success();
        })
        // Copies complete at once and one walk is every thread at once.
        .Case<CopyAsyncCommitOp, CopyAsyncWaitOp, SyncOp>(
            [](Operation *) { return success(); })
        .Case<PrintOp>([&](auto o) { return runPrint(o); })
        .Default([&](Operation *o) { return unsupported(*o); });
  }

  //===--- Scalars -------------------------------------------------------===//

  LogicalResult runConstant(arith::ConstantOp op) {
    Attribute value = op.getValue();
    if (auto integer = dyn_cast<IntegerAttr>(value)) {
      setScalar(op, integer.getValue().getZExtValue());
      return success();
    }
    if (auto real = dyn_cast<FloatAttr>(value)) {
      setScalar(op, real.getValue().bitcastToAPInt().getZExtValue());
      return success();
    }
    return op.emitError("the interpreter does not support constants like ")
           << value;
  }

  LogicalResult runIntBinary(Operation &op) {
    unsigned width = ScalarType::of(op.getResult(0).getType()).width;
    uint64_t a = scalar(op.getOperand(0)), b = scalar(op.getOperand(1));
    int64_t sa = signExtend(a, width), sb = signExtend(b, width);
    uint64_t r =
        llvm::TypeSwitch<Operation *, uint64_t>(&op)
            .Case<arith::AddIOp>([&](auto) { return a + b; })
            .Case<arith::SubIOp>([&](auto) { return a - b; })
            .Case<arith::MulIOp>([&](auto) { return a * b; })
            .Case<arith::DivSIOp>(
                [&](auto) { return intDiv(a, b, width, true); })
            .Case<arith::DivUIOp>(
                [&](auto) { return intDiv(a, b, width, false); })
            .Case<arith::RemSIOp>(
                [&](auto) { return intRem(a, b, width, true); })
            .Case<arith::RemUIOp>(
                [&](auto) { return intRem(a, b, width, false); })
            .Case<arith::CeilDivSIOp, arith::FloorDivSIOp>([&](Operation *o) {
              uint64_t q = intDiv(a, b, width, true);
              bool inexact = sb != 0 && intRem(a, b, width, true) != 0;
              bool positive = (sa < 0) == (sb < 0);
              if (inexact && isa<arith::CeilDivSIOp>(o) && positive)
                return q + 1;
              if (inexact && isa<arith::FloorDivSIOp>(o) && !positive)
                return q - 1;
              return q;
            })
            .Case<arith::CeilDivUIOp>([&](auto) {
              uint64_t q = intDiv(a, b, width, false);
              return (b & lowMask(width)) != 0 &&
                             intRem(a, b, width, false) != 0
                         ? q + 1
                         : q;
            })
            .Case<arith::MinSIOp>([&](auto) { return sa <= sb ? a : b; })
            .Case<arith::MaxSIOp>([&](auto) { return sa >= sb ? a : b; })
            .Case<arith::MinUIOp>([&](auto) {
              return intCompare(a, b, width, false) <= 0 ? a : b;
            })
            .Case<arith::MaxUIOp>([&](auto) {
              return intCompare(a, b, width, false) >= 0 ? a : b;
            })
            .Case<arith::AndIOp>([&](auto) { return a & b; })
            .Case<arith::OrIOp>([&](auto) { return a | b; })
            .Case<arith::XOrIOp>([&](auto) { return a ^ b; })
            // Shifts by the width or more are poison in arith; PTX clamps.
            .Case<arith::ShLIOp>([&](auto) {
              uint64_t s = b & lowMask(width);
              return s >= width ? 0 : a << s;
            })
            .Case<arith::ShRUIOp>([&](auto) {
              uint64_t s = b & lowMask(width);
              return s >= width ? 0 : (a & lowMask(width)) >> s;
            })
            .Case<arith::ShRSIOp>([&](auto) {
              uint64_t s = b & lowMask(width);
              return uint64_t(sa >> std::min<uint64_t>(s, 63));
            })
            .Default([](Operation *) { return uint64_t(0); });
    setScalar(op.getResult(0), r);
    return success();
  }

  LogicalResult runFloatBinary(Operation &op) {
    ScalarType type = ScalarType::of(op.getResult(0).getType());
    if (type.kind == ScalarType::Kind::Int)
      return unsupported(op);
    double a = type.toDouble(scalar(op.getOperand(0)));
    double b = type.toDouble(scalar(op.getOperand(1)));
    double nan = std::numeric_limits<double>::quiet_NaN();
    double r =
        llvm::TypeSwitch<Operation *, double>(&op)
            .Case<arith::AddFOp>([&](auto) { return a + b; })
            .Case<arith::SubFOp>([&](auto) { return a - b; })
            .Case<arith::MulFOp>([&](auto) { return a * b; })
            .Case<arith::DivFOp>([&](auto) { return a / b; })
            .Case<arith::RemFOp>([&](auto) { return std::fmod(a, b); })
            .Case<arith::MinNumFOp>(
                [&](auto) { return floatMinMax(a, b, false); })
            .Case<arith::MaxNumFOp>(
                [&](auto) { return floatMinMax(a, b, true); })
            .Case<arith::MinimumFOp>([&](auto) {
              return std::isnan(a) || std::isnan(b) ? nan
                                                    : floatMinMax(a, b, false);
            })
            .Case<arith::MaximumFOp>([&](auto) {
              return std::isnan(a) || std::isnan(b) ? nan
                                                    : floatMinMax(a, b, true);
            })
            .Default([&](Operation *) { return nan; });
    setScalar(op.getResult(0), type.fromDouble(r));
    return success();
  }

  LogicalResult runCmpI(arith::CmpIOp op) {
    unsigned width = ScalarType::of(op.getLhs().getType()).width;
    uint64_t a = scalar(op.getLhs()), b = scalar(op.getRhs());
    int s = intCompare(a, b, width, true), u = intCompare(a, b, width, false);
    bool r = false;
    switch (op.getPredicate()) {
    case arith::CmpIPredicate::eq:
      r = u == 0;
      break;
    case arith::CmpIPredicate::ne:
      r = u != 0;
      break;
    case arith::CmpIPredicate::slt:
      r = s < 0;
      break;
    case arith::CmpIPredicate::sle:
      r = s <= 0;
      break;
    case arith::CmpIPredicate::sgt:
      r = s > 0;
      break;
    case arith::CmpIPredicate::sge:
      r = s >= 0;
      break;
    case arith::CmpIPredicate::ult:
      r = u < 0;
      break;
    case arith::CmpIPredicate::ule:
      r = u <= 0;
      break;
    case arith::CmpIPredicate::ugt:
      r = u > 0;
      break;
    case arith::CmpIPredicate::uge:
      r = u >= 0;
      break;
    }
    setScalar(op, r);
    return success();
  }

  LogicalResult runCmpF(arith::CmpFOp op) {
    ScalarType type = ScalarType::of(op.getLhs().getType());
    double a = type.toDouble(scalar(op.getLhs()));
    double b = type.toDouble(scalar(op.getRhs()));
    bool unordered = std::isnan(a) || std::isnan(b);
    bool r = false;
    using P = arith::CmpFPredicate;
    switch (op.getPredicate()) {
    case P::AlwaysFalse:
      r = false;
      break;
    case P::AlwaysTrue:
      r = true;
      break;
    case P::ORD:
      r = !unordered;
      break;
    case P::UNO:
      r = unordered;
      break;
    case P::OEQ:
      r = a == b;
      break;
    case P::ONE:
      r = !unordered && a != b;
      break;
    case P::OLT:
      r = a < b;
      break;
    case P::OLE:
      r = a <= b;
      break;
    case P::OGT:
      r = a > b;
      break;
    case P::OGE:
      r = a >= b;
      break;
    case P::UEQ:
      r = unordered || a == b;
      break;
    case P::UNE:
      r = a != b;
      break;
    case P::ULT:
      r = unordered || a < b;
      break;
    case P::ULE:
      r = unordered || a <= b;
      break;
    case P::UGT:
      r = unordered || a > b;
      break;
    case P::UGE:
      r = unordered || a >= b;
      break;
    }
    setScalar(op, r);
    return success();
  }

  LogicalResult runScalarCast(Operation &op) {
    Value in = op.getOperand(0), out = op.getResult(0);
    ScalarType from = ScalarType::of(in.getType());
    ScalarType to = ScalarType::of(out.getType());
    if (!from.isSupported())
      return unsupported(op);
    uint64_t a = scalar(in);
    uint64_t r =
        llvm::TypeSwitch<Operation *, uint64_t>(&op)
            .Case<arith::ExtSIOp, arith::IndexCastOp>(
                [&](auto) { return uint64_t(signExtend(a, from.width)); })
            .Case<arith::ExtUIOp, arith::TruncIOp, arith::IndexCastUIOp,
                  arith::BitcastOp>(
                [&](auto) { return a & lowMask(from.width ? from.width : 64); })
            .Case<arith::SIToFPOp>([&](auto) {
              return convertIntToFloat(signExtend(a, from.width), true, to);
            })
            .Case<arith::UIToFPOp>([&](auto) {
              return convertIntToFloat(int64_t(a & lowMask(from.width)), false,
                                       to);
            })
            .Case<arith::FPToSIOp>([&](auto) {
              return floatToInt(from.toDouble(a), to.width, true);
            })
            .Case<arith::FPToUIOp>([&](auto) {
              return floatToInt(from.toDouble(a), to.width, false);
            })
            .Case<arith::ExtFOp, arith::TruncFOp>(
                [&](auto) { return to.fromDouble(from.toDouble(a)); })
            .Default([](Operation *) { return uint64_t(0); });
    setScalar(out, r);
    return success();
  }

  /// An integer to a float scalar with one rounding: through the dtype
  /// library where the integer is a dtype, else through double (exact up to
  /// 2^53).
  static uint64_t convertIntToFloat(int64_t value, bool isSigned,
                                    ScalarType to) {
    if (to.kind == ScalarType::Kind::F64)
      return to.fromDouble(isSigned ? double(value) : double(uint64_t(value)));
    DType from = isSigned ? DType::signedInt(64) : DType::unsignedInt(64);
    return convert(uint64_t(value), from, to.dtype, Overflow::Infinity);
  }

  //===--- Control flow --------------------------------------------------===//

  LogicalResult runFor(scf::ForOp op) {
    unsigned width = ScalarType::of(op.getInductionVar().getType()).width;
    int64_t lb = signedScalar(op.getLowerBound());
    int64_t ub = signedScalar(op.getUpperBound());
    int64_t step = signedScalar(op.getStep());
    if (step <= 0)
      return op.emitError("scf.for step must be positive, got ") << step;
    SmallVector<RtValue> carried;
    for (Value init : op.getInitArgs())
      carried.push_back(env.lookup(init));
    for (int64_t iv = lb; iv < ub;) {
      SmallVector<RtValue> args{Scalar{uint64_t(iv) & lowMask(width)}};
      args.append(carried.begin(), carried.end());
      if (failed(runRegion(op.getRegion(), args, carried)))
        return failure();
      if (__builtin_add_overflow(iv, step, &iv))
        break;
    }
    for (auto [result, value] : llvm::zip(op.getResults(), carried))
      env[result] = value;
    return success();
  }

  LogicalResult runIf(scf::IfOp op) {
    SmallVector<RtValue> results;
    Region &region =
        scalar(op.getCondition()) ? op.getThenRegion() : op.getElseRegion();
    if (!region.empty() && failed(runRegion(region, {}, results)))
      return failure();
    for (auto [result, value] : llvm::zip(op.getResults(), results))
      env[result] = value;
    return success();
  }

  LogicalResult runWhile(scf::WhileOp op) {
    SmallVector<RtValue> args, forwarded;
    for (Value init : op.getInits())
      args.push_back(env.lookup(init));
    while (true) {
      if (failed(runRegion(op.getBefore(), args, forwarded)))
        return failure();
      uint64_t cond = std::get<Scalar>(forwarded.front()).bits;
      forwarded.erase(forwarded.begin());
      if (!cond)
        break;
      if (failed(runRegion(op.getAfter(), forwarded, args)))
        return failure();
    }
    for (auto [result, value] : llvm::zip(op.getResults(), forwarded))
      env[result] = value;
    return success();
  }

  //===--- Global memory -------------------------------------------------===//

  LogicalResult runGlobalView(GlobalViewOp op) {
    GlobalTensor tensor;
    tensor.buffer = std::get<BufferRef>(env.lookup(op.getPtr()));
    auto type = op.getType();
    tensor.dtype = *getDType(type.getElementType());
    auto dynamic = op.getDynamicExtents().begin();
    for (int64_t extent : type.getShape()) {
      if (ShapedType::isDynamic(extent)) {
        extent = signedScalar(*dynamic++);
        if (extent < 0)
          return op.emitError("dynamic extent ")
                 << extent << " of the global tensor is negative";
      }
      tensor.shape.push_back(extent);
    }
    env[op] = tensor;
    return success();
  }

  /// The linear index of `offsets + index` in `tensor`, or -1 outside its
  /// extents.
  static int64_t globalIndex(const GlobalTensor &tensor,
                             ArrayRef<int64_t> offsets,
                             ArrayRef<int64_t> index) {
    int64_t linear = 0;
    for (size_t d = 0; d < index.size(); ++d) {
      int64_t coord = offsets[d] + index[d];
      if (coord < 0 || coord >= tensor.shape[d])
        return -1;
      linear = linear * tensor.shape[d] + coord;
    }
    return linear;
  }

  /// Whether element `linear` lies inside the tensor's buffer.
  static bool inBuffer(const GlobalTensor &tensor, int64_t linear) {
    unsigned bits = tensor.dtype.bitWidth();
    return (uint64_t(linear) + 1) * bits <= tensor.buffer.bytes * 8;
  }

  InFlightDiagnostic beyondBuffer(Operation *op, const GlobalTensor &tensor,
                                  int64_t linear) {
    return op->emitError("element ")
           << linear << " of the global tensor of shape "
           << shapeText(tensor.shape) << " lies beyond its "
           << tensor.buffer.bytes << "-byte buffer";
  }

  SmallVector<int64_t, 4> offsetValues(ValueRange offsets) {
    SmallVector<int64_t, 4> values;
    for (Value offset : offsets)
      values.push_back(signedScalar(offset));
    return values;
  }

  /// A code read from memory into a tile: bool is 0 or 1 in registers.
  static uint64_t normalize(DType dtype, uint64_t code) {
    return dtype.isBool() ? uint64_t(code != 0) : code;
  }

  LogicalResult runLoadGlobal(LoadGlobalOp op) {
    GlobalTensor tensor = std::get<GlobalTensor>(env.lookup(op.getSrc()));
    SmallVector<int64_t, 4> offsets = offsetValues(op.getOffsets());
    Tile result = makeTile(op);
    unsigned bits = tensor.dtype.bitWidth();
    bool ok = true;
    forEachIndex(result.shape, [&](ArrayRef<int64_t> index, int64_t i) {
      int64_t linear = globalIndex(tensor, offsets, index);
      if (linear < 0 || !ok)
        return;
      if (!inBuffer(tensor, linear)) {
        beyondBuffer(op, tensor, linear);
        ok = false;
        return;
      }
      result.codes[i] =
          normalize(tensor.dtype, getPacked(tensor.buffer.data, linear, bits));
    });
    if (!ok)
      return failure();
    setTile(op, std::move(result));
    return success();
  }

  LogicalResult runStoreGlobal(StoreGlobalOp op) {
    GlobalTensor tensor = std::get<GlobalTensor>(env.lookup(op.getDst()));
    SmallVector<int64_t, 4> offsets = offsetValues(op.getOffsets());
    const Tile &value = tile(op.getValue());
    unsigned bits = tensor.dtype.bitWidth();
    bool ok = true;
    forEachIndex(value.shape, [&](ArrayRef<int64_t> index, int64_t i) {
      int64_t linear = globalIndex(tensor, offsets, index);
      if (linear < 0 || !ok)
        return;
      if (!inBuffer(tensor, linear)) {
        beyondBuffer(op, tensor, linear);
        ok = false;
        return;
      }
      setPacked(tensor.buffer.data, linear, bits, value.codes[i]);
    });
    return success(ok);
  }

  /// Blocks run one after another, so the block's one add is plain
  /// arithmetic on the buffer (32-bit, wrapping).
  LogicalResult runAtomicAdd(AtomicAddOp op) {
    GlobalTensor tensor = std::get<GlobalTensor>(env.lookup(op.getDst()));
    SmallVector<int64_t, 4> indices = offsetValues(op.getIndices());
    SmallVector<int64_t, 4> zero(indices.size(), 0);
    int64_t linear = globalIndex(tensor, indices, zero);
    uint64_t old = 0;
    if (linear >= 0) {
      if (!inBuffer(tensor, linear)) {
        beyondBuffer(op, tensor, linear);
        return failure();
      }
      old = getPacked(tensor.buffer.data, linear, 32);
      setPacked(tensor.buffer.data, linear, 32,
                (old + scalar(op.getValue())) & 0xffffffffu);
    }
    setScalar(op, old);
    return success();
  }

  //===--- Shared memory -------------------------------------------------===//

  FailureOr<SharedPtr> liveShared(Operation *op, Value value) {
    SharedPtr shared = std::get<SharedPtr>(env.lookup(value));
    if (shared->freed)
      return op->emitError("shared tensor is used after free_shared");
    return shared;
  }

  /// Checks that the tile of `shape` at `offsets` lies inside `shared`.
  LogicalResult checkInside(Operation *op, const SharedTensor &shared,
                            ArrayRef<int64_t> offsets,
                            ArrayRef<int64_t> shape) {
    for (size_t d = 0; d < shape.size(); ++d)
      if (offsets[d] < 0 || offsets[d] + shape[d] > shared.shape[d])
        return op->emitError("tile of shape ")
               << shapeText(shape) << " at " << shapeText(offsets)
               << " does not lie inside the shared tensor of shape "
               << shapeText(shared.shape);
    return success();
  }

  static int64_t sharedIndex(const SharedTensor &shared,
                             ArrayRef<int64_t> offsets,
                             ArrayRef<int64_t> index) {
    int64_t linear = 0;
    for (size_t d = 0; d < index.size(); ++d)
      linear = linear * shared.shape[d] + offsets[d] + index[d];
    return linear;
  }

  LogicalResult runLoadShared(LoadSharedOp op) {
    FailureOr<SharedPtr> shared = liveShared(op, op.getSrc());
    if (failed(shared))
      return failure();
    SmallVector<int64_t, 4> offsets = offsetValues(op.getOffsets());
    Tile result = makeTile(op);
    if (failed(checkInside(op, **shared, offsets, result.shape)))
      return failure();
    forEachIndex(result.shape, [&](ArrayRef<int64_t> index, int64_t i) {
      result.codes[i] = (*shared)->codes[sharedIndex(**shared, offsets, index)];
    });
    setTile(op, std::move(result));
    return success();
  }

  LogicalResult runStoreShared(StoreSharedOp op) {
    FailureOr<SharedPtr> shared = liveShared(op, op.getDst());
    if (failed(shared))
      return failure();
    SmallVector<int64_t, 4> offsets = offsetValues(op.getOffsets());
    const Tile &value = tile(op.getValue());
    if (failed(checkInside(op, **shared, offsets, value.shape)))
      return failure();
    forEachIndex(value.shape, [&](ArrayRef<int64_t> index, int64_t i) {
      (*shared)->codes[sharedIndex(**shared, offsets, index)] = value.codes[i];
    });
    return success();
  }

  /// Copies the box of `op`'s global source at its offsets into its shared
  /// destination, zeros outside the tensor (copy_async and copy_tma).
  template <typename CopyOp> LogicalResult copyBox(CopyOp op) {
    FailureOr<SharedPtr> shared = liveShared(op, op.getDst());
    if (failed(shared))
      return failure();
    GlobalTensor tensor = std::get<GlobalTensor>(env.lookup(op.getSrc()));
    SmallVector<int64_t, 4> offsets = offsetValues(op.getOffsets());
    unsigned bits = tensor.dtype.bitWidth();
    bool ok = true;
    forEachIndex((*shared)->shape, [&](ArrayRef<int64_t> index, int64_t i) {
      int64_t linear = globalIndex(tensor, offsets, index);
      uint64_t code = 0;
      if (linear >= 0 && ok) {
        if (!inBuffer(tensor, linear)) {
          beyondBuffer(op, tensor, linear);
          ok = false;
          return;
        }
        code = normalize(tensor.dtype,
                         getPacked(tensor.buffer.data, linear, bits));
      }
      (*shared)->codes[i] = code;
    });
    return success(ok);
  }

  LogicalResult runCopyAsync(CopyAsyncOp op) { return copyBox(op); }

  /// A TMA copy is a copy_async (zeros outside the tensor) that completes
  /// at once, then the elected thread's one arrival on the barrier.
  LogicalResult runCopyTma(CopyTmaOp op) {
    if (failed(copyBox(op)))
      return failure();
    std::get<BarrierPtr>(env.lookup(op.getBarrier()))->arrive();
    return success();
  }

  /// Every thread of the block runs this walk at once, so nothing arrives
  /// while it waits: a wait for the current phase would hang on a device.
  LogicalResult runWaitBarrier(WaitBarrierOp op) {
    BarrierPtr shared = std::get<BarrierPtr>(env.lookup(op.getBarrier()));
    const Barrier &barrier = *shared;
    uint64_t parity = scalar(op.getPhase()) & 1;
    if (barrier.completed % 2 != parity)
      return success();
    // In a thread group another group may still arrive.
    if (sched)
      return blockOn(op, shared, parity);
    return op.emitError("waits for the barrier's phase of parity ")
           << parity << ", its current phase, which has " << barrier.pending
           << " of its " << barrier.count
           << " arrivals still pending: nothing arrives before the wait, so "
              "it would never complete";
  }

  //===--- Tile instructions ---------------------------------------------===//

  template <typename Op> LogicalResult runBinary(Op op, BinaryKind kind) {
    const Tile &lhs = tile(op.getLhs()), &rhs = tile(op.getRhs());
    Tile result = makeTile(op);
    for (size_t i = 0; i < result.codes.size(); ++i)
      result.codes[i] =
          binaryElement(kind, result.dtype, lhs.codes[i], rhs.codes[i]);
    setTile(op, std::move(result));
    return success();
  }

  LogicalResult runArange(ArangeOp op) {
    Tile result = makeTile(op);
    int64_t dim = op.getDim();
    forEachIndex(result.shape, [&](ArrayRef<int64_t> index, int64_t i) {
      result.codes[i] = uint64_t(index[dim]) & result.dtype.codeMask();
    });
    setTile(op, std::move(result));
    return success();
  }

  LogicalResult runBroadcast(BroadcastOp op) {
    const Tile &source = tile(op.getSource());
    Tile result = makeTile(op);
    SmallVector<int64_t, 4> from(source.shape.size());
    forEachIndex(result.shape, [&](ArrayRef<int64_t> index, int64_t i) {
      for (size_t d = 0; d < index.size(); ++d)
        from[d] = source.shape[d] == 1 ? 0 : index[d];
      result.codes[i] = source.codes[linearIndex(from, source.shape)];
    });
    setTile(op, std::move(result));
    return success();
  }

  LogicalResult runCast(CastOp op) {
    const Tile &source = tile(op.getSource());
    Tile result = makeTile(op);
    for (size_t i = 0; i < result.codes.size(); ++i)
      result.codes[i] = convert(source.codes[i], source.dtype, result.dtype);
    setTile(op, std::move(result));
    return success();
  }

  /// The bits of the source's elements in row-major order become the bits
  /// of the result's elements in row-major order (see the header and
  /// docs/interpreter.md for when that is the device's meaning).
  LogicalResult runView(ViewOp op) {
    const Tile &source = tile(op.getSource());
    Tile result = makeTile(op);
    unsigned fromBits = source.dtype.bitWidth(),
             toBits = result.dtype.bitWidth();
    if (source.codes.size() * fromBits != result.codes.size() * toBits)
      return op.emitError("the interpreter cannot view ")
             << source.codes.size() << " elements of " << fromBits
             << " bits as " << result.codes.size() << " elements of " << toBits
             << " bits: the tiles hold different numbers of bits";
    LayoutAttr fromLayout = op.getSource().getType().getLayout();
    LayoutAttr toLayout = op.getType().getLayout();
    if (fromLayout && toLayout) {
      // The definition: each thread's bits, in local-index order, become its
      // result elements. A replicated result element takes the first
      // thread's bits.
      RegisterLayout from = fromLayout.getLayout(), to = toLayout.getLayout();
      std::vector<bool> written(result.codes.size(), false);
      std::vector<uint64_t> local(from.numLocals());
      for (int64_t t = 0; t < from.numThreads(); ++t) {
        for (int64_t i = 0; i < from.numLocals(); ++i)
          local[i] = source.codes[linearIndex(from.map(t, i), source.shape)];
        std::vector<uint8_t> bytes = packBits(local, fromBits);
        std::vector<uint64_t> codes =
            unpackBits(bytes, to.numLocals(), toBits);
        for (int64_t i = 0; i < to.numLocals(); ++i) {
          int64_t at = linearIndex(to.map(t, i), result.shape);
          if (!written[at])
            result.codes[at] = normalize(result.dtype, codes[i]);
          written[at] = true;
        }
      }
      setTile(op, std::move(result));
      return success();
    }
    std::vector<uint8_t> bytes = packBits(source.codes, fromBits);
    result.codes = unpackBits(bytes, result.codes.size(), toBits);
    for (uint64_t &code : result.codes)
      code = normalize(result.dtype, code);
    setTile(op, std::move(result));
    return success();
  }

  LogicalResult runSlice(SliceOp op) {
    const Tile &source = tile(op.getSource());
    Tile result = makeTile(op);
    ArrayRef<int64_t> offsets = op.getOffsets();
    SmallVector<int64_t, 4> from(source.shape.size());
    forEachIndex(result.shape, [&](ArrayRef<int64_t> index, int64_t i) {
      for (size_t d = 0; d < index.size(); ++d)
        from[d] = offsets[d] + index[d];
      result.codes[i] = source.codes[linearIndex(from, source.shape)];
    });
    setTile(op, std::move(result));
    return success();
  }

  LogicalResult runTranspose(TransposeOp op) {
    const Tile &source = tile(op.getSource());
    Tile result = makeTile(op);
    ArrayRef<int64_t> perm = op.getPermutation();
    SmallVector<int64_t, 4> from(source.shape.size());
    forEachIndex(result.shape, [&](ArrayRef<int64_t> index, int64_t i) {
      for (size_t d = 0; d < index.size(); ++d)
        from[perm[d]] = index[d];
      result.codes[i] = source.codes[linearIndex(from, source.shape)];
    });
    setTile(op, std::move(result));
    return success();
  }

  /// The index of the largest (argmax) or smallest (argmin) of
  /// `element(0..extent)`, the first of equal ones; NaN is beyond every
  /// number, so the first NaN wins.
  static uint64_t argReduce(ReduceKind kind, DType dtype, int64_t extent,
                            llvm::function_ref<uint64_t(int64_t)> element) {
    int64_t best = 0;
    for (int64_t k = 1; k < extent; ++k) {
      uint64_t a = element(best), b = element(k);
      bool beyond;
      if (dtype.isFloat()) {
        double x = decode(dtype, a), y = decode(dtype, b);
        if (std::isnan(x))
          continue;
        beyond = std::isnan(y) ||
                 (kind == ReduceKind::argmax ? y > x : y < x);
      } else if (dtype.isSigned()) {
        int64_t x = intValue(dtype, a), y = intValue(dtype, b);
        beyond = kind == ReduceKind::argmax ? y > x : y < x;
      } else {
        uint64_t x = a & dtype.codeMask(), y = b & dtype.codeMask();
        beyond = kind == ReduceKind::argmax ? y > x : y < x;
      }
      if (beyond)
        best = k;
    }
    return uint64_t(best);
  }

  /// Floats: sums accumulate in double in index order and round once; max
  /// and min as the binary instructions. Integers wrap. argmax and argmin
  /// as argReduce.
  LogicalResult runReduce(ReduceOp op) {
    const Tile &source = tile(op.getSource());
    Tile result = makeTile(op);
    DType dtype = source.dtype;
    int64_t dim = op.getDim();
    int64_t extent = source.shape[dim];
    int64_t inner = 1;
    for (size_t d = dim + 1; d < source.shape.size(); ++d)
      inner *= source.shape[d];
    int64_t outer =
        int64_t(source.codes.size()) / std::max<int64_t>(extent * inner, 1);
    ReduceKind kind = op.getKind();
    for (int64_t o = 0; o < outer; ++o) {
      for (int64_t in = 0; in < inner; ++in) {
        auto element = [&](int64_t k) {
          return source.codes[(o * extent + k) * inner + in];
        };
        uint64_t code;
        if (isArgReduce(kind)) {
          code = argReduce(kind, dtype, extent, element);
        } else if (kind == ReduceKind::sum && dtype.isFloat()) {
          double sum = 0;
          for (int64_t k = 0; k < extent; ++k)
            sum += decode(dtype, element(k));
          code = roundFloat(dtype, sum);
        } else {
          BinaryKind combine = kind == ReduceKind::sum   ? BinaryKind::Add
                               : kind == ReduceKind::max ? BinaryKind::Max
                                                         : BinaryKind::Min;
          code = extent > 0 ? element(0) : 0;
          for (int64_t k = 1; k < extent; ++k)
            code = binaryElement(combine, dtype, code, element(k));
        }
        result.codes[o * inner + in] = code;
      }
    }
    setTile(op, std::move(result));
    return success();
  }

  /// c + sum_k a[m, k] * b[k, n]: integers exactly (wrapping to c's type),
  /// floats in double in k order and rounded once to c's type.
  LogicalResult runDot(DotOp op) {
    const Tile &a = tile(op.getA()), &b = tile(op.getB()), &c = tile(op.getC());
    Tile result = makeTile(op);
    int64_t m = a.shape[0], k = a.shape[1], n = b.shape[1];
    // Operands are decoded once, not once per product.
    if (!a.dtype.isFloat() && !c.dtype.isFloat()) {
      std::vector<int64_t> x(a.codes.size()), y(b.codes.size());
      for (size_t i = 0; i < x.size(); ++i)
        x[i] = intValue(a.dtype, a.codes[i]);
      for (size_t i = 0; i < y.size(); ++i)
        y[i] = intValue(b.dtype, b.codes[i]);
      for (int64_t i = 0; i < m; ++i)
        for (int64_t j = 0; j < n; ++j) {
          uint64_t sum = uint64_t(intValue(c.dtype, c.codes[i * n + j]));
          for (int64_t p = 0; p < k; ++p)
            sum += uint64_t(x[i * k + p]) * uint64_t(y[p * n + j]);
          result.codes[i * n + j] = sum & c.dtype.codeMask();
        }
      setTile(op, std::move(result));
      return success();
    }
    std::vector<double> x(a.codes.size()), y(b.codes.size());
    for (size_t i = 0; i < x.size(); ++i)
      x[i] = decode(a.dtype, a.codes[i]);
    for (size_t i = 0; i < y.size(); ++i)
      y[i] = decode(b.dtype, b.codes[i]);
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double sum = decode(c.dtype, c.codes[i * n + j]);
        for (int64_t p = 0; p < k; ++p)
          sum += x[i * k + p] * y[p * n + j];
        result.codes[i * n + j] =
            c.dtype.isFloat() ? roundFloat(c.dtype, sum) : encode(c.dtype, sum);
      }
    setTile(op, std::move(result));
    return success();
  }

  LogicalResult runPrint(PrintOp op) {
    if (!options.printStream)
      return success();
    raw_ostream &os = *options.printStream;
    StringRef label = op.getLabel();
    Value value = op.getValue();
    if (isa<TileType>(value.getType())) {
      const Tile &t = tile(value);
      forEachIndex(t.shape, [&](ArrayRef<int64_t> index, int64_t i) {
        os << label << "[";
        llvm::interleaveComma(index, os);
        os << "] = ";
        printElement(os, t.dtype, t.codes[i]);
        os << "\n";
      });
      return success();
    }
    DType dtype = *getDType(value.getType());
    os << label << " = ";
    printElement(os, dtype, scalar(value));
    os << "\n";
    return success();
  }

  const InterpreterOptions &options;
  std::array<int64_t, 3> blockIdx;
  llvm::DenseMap<Value, RtValue> env;
  /// The tasks of the thread groups being run, if any (runGroups).
  Scheduler *sched = nullptr;
};

} // namespace

LogicalResult tilus::interpretKernel(func::FuncOp kernel,
                                     ArrayRef<InterpreterArg> args,
                                     const InterpreterOptions &options) {
  if (kernel.isExternal())
    return kernel.emitError("the interpreter needs the kernel's body");
  FunctionType type = kernel.getFunctionType();
  if (type.getNumInputs() != args.size())
    return kernel.emitError("the kernel has ")
           << type.getNumInputs() << " parameters but " << args.size()
           << " arguments were given";
  SmallVector<RtValue> values;
  for (auto [index, param, arg] : llvm::enumerate(type.getInputs(), args)) {
    if (isa<LLVM::LLVMPointerType>(param)) {
      if (arg.kind != InterpreterArg::Kind::Buffer)
        return kernel.emitError("argument ")
               << index << " must be a buffer for the pointer parameter";
      values.push_back(BufferRef{arg.data, arg.bytes});
      continue;
    }
    ScalarType scalarType = ScalarType::of(param);
    if (!scalarType.isSupported())
      return kernel.emitError("the interpreter does not support parameters "
                              "of type ")
             << param;
    if (arg.kind == InterpreterArg::Kind::Buffer)
      return kernel.emitError("argument ")
             << index << " must be a scalar for the parameter of type "
             << param;
    bool isFloatArg = arg.kind == InterpreterArg::Kind::Float;
    uint64_t bits;
    if (scalarType.kind == ScalarType::Kind::Int)
      bits = (isFloatArg ? floatToInt(arg.floatValue, scalarType.width, true)
                         : uint64_t(arg.intValue)) &
             lowMask(scalarType.width);
    else
      bits = scalarType.fromDouble(isFloatArg ? arg.floatValue
                                              : double(arg.intValue));
    values.push_back(Scalar{bits});
  }
  for (int64_t extent : options.grid)
    if (extent < 0)
      return kernel.emitError("grid extent ") << extent << " is negative";
  std::string progressError;
  ProgressPolicy policy = ProgressPolicy::fromEnvironment(progressError);
  if (!progressError.empty())
    return kernel.emitError(progressError);
  Progress progress(policy, "interpreting " + kernel.getName().str(),
                    uint64_t(options.grid[0]) * uint64_t(options.grid[1]) *
                        uint64_t(options.grid[2]),
                    "blocks");
  for (int64_t z = 0; z < options.grid[2]; ++z)
    for (int64_t y = 0; y < options.grid[1]; ++y)
      for (int64_t x = 0; x < options.grid[0]; ++x) {
        BlockInterpreter block(options, {x, y, z});
        if (failed(block.run(kernel, values)))
          return failure();
        progress.step();
      }
  return success();
}
