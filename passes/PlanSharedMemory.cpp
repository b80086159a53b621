//===- PlanSharedMemory.cpp - Offsets in dynamic shared memory ------------===//
//
// Every shared tensor of a kernel gets a byte offset in the kernel's dynamic
// shared memory, and every instruction that borrows scratch space the offset
// of its scratch area.
//
// A tensor is live from its `alloc_shared` to its last use or `free_shared`
// (to the end of the kernel without one, or when it is passed to an op
// outside the dialect, such as a yield or a loop argument), with program
// points numbered in pre-order. A loop that the tensor outlives, or in which it
// is used but not allocated, makes it live for the whole loop, since later
// iterations come back to earlier points. Tensors are placed in program order,
// first fit, each at the lowest aligned offset that overlaps no tensor live at
// the same time. Thread groups run at the same time as one another, so a
// tensor allocated in a group is, for every tensor outside that group, live
// from the kernel's first group to its last (its own group's tensors still
// share bytes by program order).
//
// A scratch area is placed above every tensor that is live at its
// instruction or allocated after it (in an enclosing loop: live anywhere in
// the loop). Tensors freed before the instruction may overlap it: the
// instruction's leading barrier orders their last accesses before its
// writes. Scratch areas of different instructions overlap, for the same
// reason, except across thread groups: groups run at the same time and each
// barrier orders one group's threads only, so each group's scratch areas
// get a slice of their own, above every tensor live from the first group on.
//
//===----------------------------------------------------------------------===//

#include "passes/Passes.h"

#include "ir/dialect/Tilus.h"
#include "target/Scratch.h"
#include "target/TargetInfo.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/Debug.h"
#include "llvm/Support/MathExtras.h"

#define DEBUG_TYPE "tilus-plan-shared-memory"

namespace tilus {
#define GEN_PASS_DEF_PLANSHAREDMEMORY
#include "passes/Passes.h.inc"
} // namespace tilus

using namespace mlir;
using namespace tilus;

namespace {

/// Alignment of every shared tensor, and of swizzled ones: a swizzle keeps
/// ldmatrix rows in distinct banks only from a 128-byte boundary, and
/// wgmma's descriptors only from a boundary of the swizzle's span (the
/// larger of the two is used).
constexpr int64_t kAlignment = 16;
constexpr int64_t kSwizzledAlignment = 128;
/// The alignment of a TMA copy's shared destination (PTX ISA,
/// cp.async.bulk.tensor).
constexpr int64_t kTmaAlignment = 128;
/// An mbarrier object: 8 bytes, 8-byte aligned.
constexpr int64_t kBarrierBytes = 8;

/// Pre-order numbers of the operations of a kernel: the first and last
/// point of each operation, its regions included.
class ProgramPoints {
public:
  explicit ProgramPoints(Operation *root) { number(root); }

  int64_t begin(Operation *op) const { return points.lookup(op).first; }
  int64_t end(Operation *op) const { return points.lookup(op).second; }

private:
  void number(Operation *op) {
    int64_t first = next++;
    for (Region &region : op->getRegions())
      for (Block &block : region)
        for (Operation &nested : block)
          number(&nested);
    points[op] = {first, next - 1};
  }

  int64_t next = 0;
  llvm::DenseMap<Operation *, std::pair<int64_t, int64_t>> points;
};

/// One shared tensor: its live interval, size and placement.
struct Buffer {
  Operation *alloc; ///< a tilus.alloc_shared or tilus.alloc_barrier
  int64_t start, end;
  int64_t bytes, alignment;
  int64_t offset = 0;
  Operation *group = nullptr; ///< the thread group allocating it, if any
};

/// Whether two tensors may need their bytes at the same time: their live
/// intervals meet, or one is allocated in a thread group and the other,
/// outside that group, is live while any group runs (`groups`, the points
/// from the first group to the last; groups run at the same time).
bool liveTogether(const Buffer &a, const Buffer &b,
                  std::pair<int64_t, int64_t> groups) {
  auto interval = [&](const Buffer &x,
                      const Buffer &other) -> std::pair<int64_t, int64_t> {
    if (!x.group || x.group == other.group)
      return {x.start, x.end};
    return {std::min(x.start, groups.first), std::max(x.end, groups.second)};
  };
  auto [aStart, aEnd] = interval(a, b);
  auto [bStart, bEnd] = interval(b, a);
  return aStart <= bEnd && bStart <= aEnd;
}

/// The bytes and alignment of a shared tensor.
std::pair<int64_t, int64_t> getBufferSize(SharedTensorType type) {
  SharedLayout layout = getSharedLayout(type);
  int64_t elements = layout.cosize();
  const Swizzle &swizzle = layout.swizzle();
  // The swizzle permutes whole spans; the last one may reach past cosize.
  if (!swizzle.isIdentity())
    elements = llvm::alignTo(elements, swizzle.span());
  int64_t bits = getDType(type.getElementType())->bitWidth();
  int64_t bytes = (elements * bits + 7) / 8;
  if (swizzle.isIdentity())
    return {bytes, kAlignment};
  // wgmma applies its swizzle to shared-memory addresses, so a tensor that
  // wgmma reads (target/WgmmaInstructions.h) starts on a whole span.
  int64_t spanBytes = swizzle.span() * bits / 8;
  return {bytes, std::max(kSwizzledAlignment, spanBytes)};
}

/// The loops enclosing `op` inside `root`, innermost first.
SmallVector<Operation *> getEnclosingLoops(Operation *op, Operation *root) {
  SmallVector<Operation *> loops;
  for (Operation *parent = op->getParentOp(); parent && parent != root;
       parent = parent->getParentOp())
    if (isa<LoopLikeOpInterface>(parent))
      loops.push_back(parent);
  return loops;
}

/// The live interval of the tensor `alloc` makes.
std::pair<int64_t, int64_t> getLiveInterval(AllocSharedOp alloc,
                                            Operation *kernel,
                                            const ProgramPoints &points) {
  int64_t start = points.begin(alloc), end = start;
  bool freed = false, escapes = false;
  for (Operation *user : alloc->getUsers()) {
    freed |= isa<FreeSharedOp>(user);
    // Through yields, loop arguments or calls the tensor is used under other
    // names, which this analysis does not follow.
    escapes |= !isa<TilusDialect>(user->getDialect());
    end = std::max(end, points.end(user));
    // A use in a loop that the tensor was allocated outside of recurs.
    for (Operation *loop : getEnclosingLoops(user, kernel))
      if (!loop->isAncestor(alloc))
        end = std::max(end, points.end(loop));
  }
  if (!freed || escapes)
    end = points.end(kernel);
  for (Operation *loop : getEnclosingLoops(alloc, kernel))
    if (end > points.end(loop)) {
      start = std::min(start, points.begin(loop));
      end = std::max(end, points.end(loop));
    }
  return {start, end};
}

/// The lowest offset, aligned to `alignment`, at which `bytes` bytes overlap
/// none of `taken` (offset, bytes) ranges.
int64_t firstFit(SmallVector<std::pair<int64_t, int64_t>> taken, int64_t bytes,
                 int64_t alignment) {
  llvm::sort(taken);
  int64_t candidate = 0;
  for (auto [offset, size] : taken) {
    if (static_cast<int64_t>(llvm::alignTo(candidate, alignment)) + bytes <=
        offset)
      break;
    candidate = std::max(candidate, offset + size);
  }
  return llvm::alignTo(candidate, alignment);
}

struct PlanSharedMemoryPass
    : tilus::impl::PlanSharedMemoryBase<PlanSharedMemoryPass> {
  using PlanSharedMemoryBase::PlanSharedMemoryBase;

  void runOnOperation() override {
    std::optional<TargetInfo> target = TargetInfo::lookup(arch);
    if (!target) {
      getOperation().emitError("unknown architecture '")
          << arch << "'; expected one of "
          << llvm::join(TargetInfo::supportedArchs(), ", ");
      return signalPassFailure();
    }
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (func->hasAttr(kernel_attr::kKernel) &&
          failed(planKernel(func, *target)))
        return signalPassFailure();
  }

  LogicalResult planKernel(func::FuncOp kernel, const TargetInfo &target) {
    ProgramPoints points(kernel);
    SmallVector<Buffer> buffers;
    // cp.async.bulk.tensor writes shared memory from a 128-byte boundary;
    // a tensor may reach a copy_tma under another name (a loop-carried
    // rotation), so in a kernel with TMA copies every tensor starts on one.
    bool hasTma = kernel
                      .walk([](CopyTmaOp) { return WalkResult::interrupt(); })
                      .wasInterrupted();
    SmallVector<Operation *> borrowers;
    kernel.walk([&](Operation *op) {
      if (auto alloc = dyn_cast<AllocSharedOp>(op)) {
        auto [start, end] = getLiveInterval(alloc, kernel, points);
        auto [bytes, alignment] = getBufferSize(alloc.getType());
        if (hasTma)
          alignment = std::max(alignment, kTmaAlignment);
        buffers.push_back({alloc, start, end, bytes, alignment, /*offset=*/0,
                           alloc->getParentOfType<ThreadGroupOp>()});
      } else if (auto barrier = dyn_cast<AllocBarrierOp>(op)) {
        // An mbarrier lives for the whole kernel: reusing its bytes would
        // need mbarrier.inval first.
        buffers.push_back({barrier, points.begin(kernel), points.end(kernel),
                           kBarrierBytes, kBarrierBytes});
      } else if (getScratchBytes(op) > 0) {
        borrowers.push_back(op);
      }
    });
    // Ties keep program order, so plans do not depend on the sort.
    llvm::sort(buffers, [&](const Buffer &a, const Buffer &b) {
      return std::make_pair(a.start, points.begin(a.alloc)) <
             std::make_pair(b.start, points.begin(b.alloc));
    });

    SmallVector<ThreadGroupOp> groups(kernel.getOps<ThreadGroupOp>());
    std::pair<int64_t, int64_t> groupSpan{0, -1};
    if (!groups.empty())
      groupSpan = {points.begin(groups.front()), points.end(groups.back())};
    int64_t total = 0;
    for (size_t i = 0; i < buffers.size(); ++i) {
      Buffer &buffer = buffers[i];
      SmallVector<std::pair<int64_t, int64_t>> taken;
      for (size_t j = 0; j < i; ++j)
        if (liveTogether(buffers[j], buffer, groupSpan))
          taken.push_back({buffers[j].offset, buffers[j].bytes});
      buffer.offset = firstFit(taken, buffer.bytes, buffer.alignment);
      total = std::max(total, buffer.offset + buffer.bytes);
      buffer.alloc->setAttr(plan_attr::kSharedOffset,
                            Builder(kernel).getI64IntegerAttr(buffer.offset));
      LLVM_DEBUG(llvm::dbgs() << "shared tensor at " << buffer.offset << ", "
                              << buffer.bytes << " bytes, live ["
                              << buffer.start << ", " << buffer.end << "]\n");
      ++numAllocations;
    }

    // Thread groups run at the same time, each synchronising only its own
    // threads: each group's scratch areas get a slice of their own, above
    // every tensor live from the first group on.
    llvm::DenseMap<Operation *, int64_t> groupSlice;
    if (!groups.empty()) {
      int64_t slice = 0;
      for (const Buffer &buffer : buffers)
        if (buffer.end >= points.begin(groups.front()))
          slice = std::max(slice, buffer.offset + buffer.bytes);
      for (ThreadGroupOp group : groups) {
        slice = llvm::alignTo(slice, kAlignment);
        groupSlice[group] = slice;
        int64_t bytes = 0;
        group.walk([&](Operation *op) {
          bytes = std::max(bytes, getScratchBytes(op));
        });
        slice += bytes;
      }
    }

    for (Operation *op : borrowers) {
      SmallVector<Operation *> loops = getEnclosingLoops(op, kernel);
      int64_t point = points.begin(
          loops.empty() ? op : static_cast<Operation *>(loops.back()));
      int64_t offset = 0;
      for (const Buffer &buffer : buffers)
        if (buffer.end >= point)
          offset = std::max(offset, buffer.offset + buffer.bytes);
      offset = llvm::alignTo(offset, kAlignment);
      if (auto group = op->getParentOfType<ThreadGroupOp>())
        offset = std::max(offset, groupSlice.lookup(group));
      op->setAttr(plan_attr::kScratchOffset,
                  Builder(op).getI64IntegerAttr(offset));
      total = std::max(total, offset + getScratchBytes(op));
      ++numScratchAreas;
    }

    if (total > target.maxSharedMemoryPerBlock)
      return kernel.emitError("kernel '")
             << kernel.getSymName() << "' needs " << total
             << " bytes of shared memory but " << target.arch
             << " allows at most " << target.maxSharedMemoryPerBlock
             << " bytes per block";
    kernel->setAttr(plan_attr::kSharedBytes,
                    Builder(kernel).getI64IntegerAttr(total));
    return success();
  }
};

} // namespace
