//===- WgmmaLowering.cpp - dot on sm_90a through wgmma.mma_async ----------===//
//
// A dot that layout inference marked `tilus.wgmma` (passes/InferLayouts.cpp)
// is planned again from the layouts in the IR (target/WgmmaInstructions.h)
// and becomes, per thread:
//
//   wgmma.fence.sync.aligned                  (the accumulator registers
//                                              were written by other code)
//   for each k-step, for each of the warpgroup's instruction tiles:
//     wgmma.mma_async.sync.aligned.m64nNk16.f32.f16.f16
//         {d...}, a-desc, b-desc, 1, 1, 1, 0, 0
//   wgmma.commit_group.sync.aligned
//   wgmma.wait_group.sync.aligned 0          (not for an async dot)
//
// k-outer, as the mma.sync lowering, so consecutive instructions are
// independent. The descriptors are built at run time from the shared
// tensors' addresses (bits 0-13: address >> 4) plus the constant fields of
// the plan and, for warpgroups after the first, the plan's per-warpgroup
// offset selected by threadIdx.x / 128. a and b are not read into
// registers: their load_shared results (and transposes) go unused, and the
// loads become zero constants.
//
// Each instruction is inline PTX whose accumulator registers are tied
// operands. The results are in the registers only after wait_group; an
// empty inline asm with the registers tied after the wait (side effects
// keep it after the wait) gives the code that reads them a dependency on
// it, as CUTLASS's warpgroup_fence_operand does.
//
// wgmma reads shared memory through the async proxy, while cp.async and
// st.shared write it through the generic proxy: the writers must execute
// fence.proxy.async before the barrier that hands the tiles over. In a
// kernel with a wgmma dot, every `sync()` (bar.sync) is therefore preceded
// by `fence.proxy.async.shared::cta` (codegen/SharedMemoryLowering.cpp).
//
// Waiting for 0 groups after each dot keeps the accumulator ready for any
// code after it. An async dot (`dot_async`) stops after commit_group: its
// result registers are the wgmma's outputs, which the frontend lets flow
// only into another async dot's tied accumulator operands or into a
// wait_dot. wait_dot(n) is one inline asm `wgmma.wait_group.sync.aligned n`
// with every register of its operands tied ("+f", or "+r" for packed f16):
// the reads after it depend on it, and between an issue and its wait the
// registers are only ever tied operands, so LLVM has no reason to copy them
// (test/lit/codegen/wgmma-async.tl checks the PTX). In a kernel without a
// wgmma dot, wait_dot is nothing.
//
// A from registers. The wgmma reads a's registers until its group
// completes, so a write to them before the wait (the next iteration's a
// put in the same PTX registers) is undefined. An async dot whose register
// `a` is also an operand of a wait_dot (the frontend passes a variable
// written as the bare `a` of a dot_async through every wait until the
// group completes, frontend/DotAsync.cpp) stays in flight: the wait ties
// a's b32 registers ("+r", two halves each) as it ties the accumulators,
// so LLVM keeps them live and unchanged up to the wait and puts no other
// value in them (test/lit/codegen/wgmma-rega-async.tl). The `a` may reach
// the dot through a layout conversion that permutes each thread's
// registers (the same b32 pairs, renamed). Any other register `a` (an
// expression, one converted through shared memory, or one the program
// reads or reassigns while the dot may be in flight: `tilus.waits_for_a`)
// is not held: such a dot waits for its own group, as a synchronous dot
// does.
//
//===----------------------------------------------------------------------===//

#include "codegen/TileLowering.h"
#include "target/Scratch.h"
#include "target/WgmmaInstructions.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <set>

using namespace mlir;
using namespace tilus;

namespace {

/// An inline asm without results or operands, ordered by its side effects.
void emitAsm(OpBuilder &builder, Location loc, StringRef text) {
  builder.create<LLVM::InlineAsmOp>(loc, TypeRange{}, ValueRange{}, text, "",
                                    /*has_side_effects=*/true,
                                    /*is_align_stack=*/false,
                                    LLVM::AsmDialectAttr(), ArrayAttr());
}

/// Inline asm `text` whose first registers.size() operands are `registers`
/// (of `type`, constraint `kind`), read and written, followed by `inputs`
/// (64-bit, "l", or 32-bit, "r"). Returns the new registers.
SmallVector<Value> emitTiedAsm(OpBuilder &builder, Location loc,
                               StringRef text, ArrayRef<Value> registers,
                               Type type, char kind, ValueRange inputs) {
  std::string constraints;
  for (size_t r = 0; r < registers.size(); ++r)
    constraints += std::string(r ? "," : "") + "=" + kind;
  for (Value input : inputs)
    constraints += input.getType().isInteger(32) ? ",r" : ",l";
  for (size_t r = 0; r < registers.size(); ++r)
    constraints += "," + std::to_string(r);
  if (registers.empty())
    constraints = constraints.empty() ? "" : constraints.substr(1);
  SmallVector<Value> operands(inputs.begin(), inputs.end());
  operands.append(registers.begin(), registers.end());
  auto structType = LLVM::LLVMStructType::getLiteral(
      builder.getContext(), SmallVector<Type>(registers.size(), type));
  auto asmOp = builder.create<LLVM::InlineAsmOp>(
      loc, TypeRange{structType}, operands, text, constraints,
      /*has_side_effects=*/true, /*is_align_stack=*/false,
      LLVM::AsmDialectAttr(), ArrayAttr());
  SmallVector<Value> results;
  for (size_t r = 0; r < registers.size(); ++r)
    results.push_back(builder.create<LLVM::ExtractValueOp>(
        loc, asmOp.getResult(0), int64_t(r)));
  return results;
}

/// The accumulator registers of `c` (a lowered tile of `tileLocals` f32 or
/// f16 elements per instruction tile, `tiles` of them): f32 one per
/// register, f16 two per i32 register.
SmallVector<SmallVector<Value>> accumulatorRegisters(OpBuilder &builder,
                                                     Location loc, Value c,
                                                     bool f16, int64_t tiles,
                                                     int64_t tileLocals) {
  int64_t perRegister = f16 ? 2 : 1;
  SmallVector<SmallVector<Value>> accs(tiles);
  for (auto [i, acc] : llvm::enumerate(accs))
    for (int64_t r = 0; r < tileLocals / perRegister; ++r) {
      int64_t first = int64_t(i) * tileLocals + r * perRegister;
      if (!f16) {
        acc.push_back(builder.create<vector::ExtractOp>(loc, c, first));
        continue;
      }
      Value pair = builder.create<vector::ShuffleOp>(
          loc, c, c, ArrayRef<int64_t>{first, first + 1});
      acc.push_back(
          builder.create<LLVM::BitcastOp>(loc, builder.getI32Type(), pair));
    }
  return accs;
}

/// "{$0, $1, ..., $count-1}".
std::string registerList(size_t count) {
  std::string text = "{";
  for (size_t r = 0; r < count; ++r)
    text += (r ? ", $" : "$") + std::to_string(r);
  return text + "}";
}

/// Whether the register `a` of `op` is passed through a wait_dot, directly or
/// through a layout conversion that only permutes each thread's registers:
/// then the wait ties a's registers and the dot may stay in flight.
bool heldByWait(DotOp op) {
  if (op->hasAttr(kDotWaitsForA))
    return false;
  auto waited = [](Value value) {
    return llvm::any_of(value.getUsers(),
                        [](Operation *user) { return isa<WaitDotOp>(user); });
  };
  Value a = op.getA();
  if (waited(a))
    return true;
  auto convert = a.getDefiningOp<ConvertLayoutOp>();
  return convert && getMoveCost(convert).inRegisters() &&
         waited(convert.getSource());
}

/// "dot: wgmma.m64n64k16 f16 x f16 -> f32, warpgroups 2x1, 1x1 instructions
/// per warpgroup and k-step, 2 k-steps, a by descriptor (64-byte swizzle), b
/// by descriptor (64-byte swizzle)".
std::string describePlan(const WgmmaPlan &plan, DotOp op) {
  ArrayRef<int64_t> shape = op.getC().getType().getShape();
  std::set<int64_t> rows, cols;
  for (int64_t i = 0; i < plan.quotient.numLocals(); ++i) {
    std::vector<int64_t> mn = plan.quotient.map(0, i);
    rows.insert(mn[0]);
    cols.insert(mn[1]);
  }
  int64_t rm = rows.size(), rn = cols.size();
  int64_t gm = shape[0] / 64 / rm, gn = shape[1] / plan.n / rn;
  std::string text = "dot: " + plan.describe() + ", warpgroups " +
                     std::to_string(gm) + "x" + std::to_string(gn);
  if (gm * gn != plan.quotient.numThreads())
    text += " (each tile on " +
            std::to_string(plan.quotient.numThreads() / (gm * gn)) +
            " warpgroups)";
  text += ", " + std::to_string(rm) + "x" + std::to_string(rn) +
          " instructions per warpgroup and k-step, " +
          std::to_string(plan.kSteps) + " k-steps, " +
          (plan.aFromRegisters
               ? std::string("a from registers")
               : "a by descriptor (" + plan.a[0][0].describe() + ")") +
          ", b by descriptor (" + plan.b[0][0].describe() + ")";
  if (plan.aFromRegisters && op.getAsync())
    text += heldByWait(op) ? ", in flight (a's registers held until a "
                             "wait_dot)"
                           : ", waits for its group (a's registers stay read "
                             "until it completes)";
  return text;
}

struct WgmmaDotLowering : OpConversionPattern<DotOp> {
  WgmmaDotLowering(const TypeConverter &converter, MLIRContext *context,
                   const TargetInfo &target, bool remarks)
      : OpConversionPattern(converter, context, /*benefit=*/3),
        target(target), remarks(remarks) {}

  LogicalResult
  matchAndRewrite(DotOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (!op->hasAttr(kWgmmaAttr))
      return rewriter.notifyMatchFailure(op, "not marked for wgmma");
    std::string reason;
    int64_t warps = getKernelNumThreads(op) / kWarpSize;
    FailureOr<WgmmaPlan> plan =
        planWgmma(op, target, warps, getLayout(op.getC().getType()), reason);
    if (failed(plan))
      return op.emitOpError("is marked '")
             << kWgmmaAttr << "' but has no wgmma plan: " << reason;
    if (remarks)
      op.emitRemark() << describePlan(*plan, op);

    Location loc = op.getLoc();
    Type i64 = rewriter.getI64Type(), i32 = rewriter.getI32Type();
    auto constant = [&](Type type, int64_t value) -> Value {
      return rewriter.create<arith::ConstantOp>(
          loc, rewriter.getIntegerAttr(type, value));
    };
    // The warpgroup's offset of each operand, selected by threadIdx.x / 128.
    Value group;
    if (plan->quotient.numThreads() > 1)
      group = rewriter.create<arith::DivUIOp>(
          loc, createThreadId(rewriter, loc),
          constant(i32, kWarpgroupThreads));
    auto groupOffset = [&](ArrayRef<int64_t> deltas) -> Value {
      Value offset = constant(i64, deltas[0]);
      for (size_t g = 1; g < deltas.size(); ++g) {
        if (deltas[g] == deltas[0])
          continue;
        Value is = rewriter.create<arith::CmpIOp>(
            loc, arith::CmpIPredicate::eq, group, constant(i32, int64_t(g)));
        offset = rewriter.create<arith::SelectOp>(
            loc, is, constant(i64, deltas[g]), offset);
      }
      return offset;
    };
    // (address of the tensor + the warpgroup's offset) >> 4, the start
    // address field before the plan's start offset is added.
    auto descriptorBase = [&](Value shared, ArrayRef<int64_t> deltas) {
      Value address = rewriter.create<LLVM::PtrToIntOp>(loc, i64, shared);
      address = rewriter.create<arith::AddIOp>(loc, address,
                                               groupOffset(deltas));
      return rewriter.create<arith::ShRUIOp>(loc, address, constant(i64, 4));
    };
    bool aRegisters = plan->aFromRegisters;
    if (aRegisters && getLayout(op.getA().getType()) != plan->aLayout)
      return op.emitOpError("takes a from registers in layout ")
             << getLayout(op.getA().getType()).str()
             << ", not the wgmma A fragments " << plan->aLayout.str();
    Value sharedA = aRegisters ? Value()
                               : rewriter.getRemappedValue(
                                     getWgmmaOperand(op.getA())->load.getSrc());
    Value sharedB =
        rewriter.getRemappedValue(getWgmmaOperand(op.getB())->load.getSrc());
    if ((!aRegisters && !sharedA) || !sharedB)
      return rewriter.notifyMatchFailure(op, "shared tensors not lowered");
    Value baseA = aRegisters ? Value() : descriptorBase(sharedA, plan->aDelta);
    Value baseB = descriptorBase(sharedB, plan->bDelta);
    // A from registers: the fragment of tile i at k-step s as four b32
    // registers, two f16/bf16 each (local 2j in the low half).
    auto fragmentA = [&](int64_t i, int64_t s) {
      const std::vector<int64_t> &locals = plan->aLocals[i][s];
      SmallVector<Value> registers;
      for (size_t j = 0; j < locals.size(); j += 2) {
        Value pair = rewriter.create<vector::ShuffleOp>(
            loc, adaptor.getA(), adaptor.getA(),
            ArrayRef<int64_t>{locals[j], locals[j + 1]});
        registers.push_back(rewriter.create<LLVM::BitcastOp>(loc, i32, pair));
      }
      return registers;
    };
    auto descriptor = [&](Value base, const WgmmaDescriptor &d) -> Value {
      return rewriter.create<arith::AddIOp>(loc, base,
                                            constant(i64, int64_t(d.encode())));
    };

    // Accumulator registers: f32 alone, f16 in pairs.
    bool f16 = plan->accumulator == DType::f16();
    int64_t perRegister = f16 ? 2 : 1;
    Type registerType = f16 ? Type(i32) : Type(rewriter.getF32Type());
    char kind = f16 ? 'r' : 'f';
    int64_t tileLocals = plan->n / 2;
    int64_t registersPerTile = tileLocals / perRegister;
    Value c = adaptor.getC();
    SmallVector<SmallVector<Value>> accs = accumulatorRegisters(
        rewriter, loc, c, f16, plan->quotient.numLocals(), tileLocals);

    std::string text =
        "wgmma.mma_async.sync.aligned.m64n" + std::to_string(plan->n) + "k16." +
        plan->accumulator.name() + "." + plan->input.name() + "." +
        plan->input.name() + " " + registerList(registersPerTile) + ", ";
    auto operand = [&](int64_t r) { return "$" + std::to_string(r); };
    int64_t next = registersPerTile;
    if (aRegisters) {
      // {a0, a1, a2, a3}, b-desc, scale-d, imm-scale-a, imm-scale-b,
      // imm-trans-b.
      text += "{" + operand(next) + ", " + operand(next + 1) + ", " +
              operand(next + 2) + ", " + operand(next + 3) + "}, " +
              operand(next + 4) + ", 1, 1, 1, 0;";
    } else {
      text += operand(next) + ", " + operand(next + 1) + ", 1, 1, 1, 0, 0;";
    }
    emitAsm(rewriter, loc, "wgmma.fence.sync.aligned;");
    for (int64_t s = 0; s < plan->kSteps; ++s)
      for (auto [i, acc] : llvm::enumerate(accs)) {
        SmallVector<Value> inputs;
        if (aRegisters)
          inputs = fragmentA(int64_t(i), s);
        else
          inputs.push_back(descriptor(baseA, plan->a[i][s]));
        inputs.push_back(descriptor(baseB, plan->b[i][s]));
        acc = emitTiedAsm(rewriter, loc, text, acc, registerType, kind, inputs);
      }
    // An async dot with a in registers waits for its group unless a wait_dot
    // holds a's registers: otherwise the code after it (the next
    // iteration's a, in a loop) may write the registers a was in, which the
    // in-flight wgmma reads until it completes.
    if (op.getAsync() && (!aRegisters || heldByWait(op))) {
      emitAsm(rewriter, loc, "wgmma.commit_group.sync.aligned;");
    } else {
      emitAsm(rewriter, loc,
              "wgmma.commit_group.sync.aligned;\n\t"
              "wgmma.wait_group.sync.aligned 0;");
      for (SmallVector<Value> &acc : accs)
        acc = emitTiedAsm(rewriter, loc, "", acc, registerType, kind,
                          ValueRange{});
    }

    rewriter.replaceOp(op, insertAccumulatorRegisters(
                               rewriter, loc, c, accs, tileLocals, perRegister,
                               rewriter.getF16Type()));
    return success();
  }

  TargetInfo target;
  bool remarks;
};

/// wait_dot: `wgmma.wait_group.sync.aligned n` with the registers of every
/// operand tied through it, or the operands themselves in a kernel without
/// a wgmma dot.
struct WaitDotLowering : OpConversionPattern<WaitDotOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(WaitDotOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    if (!kernelHasWgmma(op)) {
      rewriter.replaceOp(op, adaptor.getAccumulators());
      return success();
    }
    Location loc = op.getLoc();
    // One register list for all operands; f32 registers first, then the
    // packed f16 ones, each kind with its own constraint.
    struct Operand {
      Value lowered;
      /// Two 16-bit elements per b32 register: f16 accumulators and the
      /// f16 or bf16 a of a dot held in flight.
      bool f16;
      int64_t locals;
      Type element;
    };
    SmallVector<Operand> operands;
    for (auto [tile, lowered] :
         llvm::zip(op.getAccumulators(), adaptor.getAccumulators())) {
      Type element = cast<TileType>(tile.getType()).getElementType();
      if (!element.isF32() && !element.isF16() && !element.isBF16())
        return op.emitOpError("waits for a tile of ")
               << element << ", which no wgmma accumulates or reads from "
               << "registers";
      int64_t locals = cast<VectorType>(lowered.getType()).getNumElements();
      bool packed = !element.isF32();
      if (packed && locals % 2)
        return op.emitOpError("waits for a 16-bit tile of an odd number of "
                              "elements per thread");
      operands.push_back({lowered, packed, locals, element});
    }
    SmallVector<Value> registers;
    SmallVector<Type> types;
    std::string outputs, ties;
    for (bool f16 : {false, true})
      for (const Operand &operand : operands) {
        if (operand.f16 != f16)
          continue;
        SmallVector<SmallVector<Value>> accs = accumulatorRegisters(
            rewriter, loc, operand.lowered, f16, 1, operand.locals);
        for (Value r : accs[0]) {
          outputs += std::string(registers.empty() ? "" : ",") + "=" +
                     (f16 ? "r" : "f");
          ties += "," + std::to_string(registers.size());
          registers.push_back(r);
          types.push_back(r.getType());
        }
      }
    std::string text =
        "wgmma.wait_group.sync.aligned " + std::to_string(op.getPending()) +
        ";";
    if (registers.empty()) {
      emitAsm(rewriter, loc, text);
      rewriter.replaceOp(op, ValueRange{});
      return success();
    }
    auto structType =
        LLVM::LLVMStructType::getLiteral(rewriter.getContext(), types);
    auto asmOp = rewriter.create<LLVM::InlineAsmOp>(
        loc, TypeRange{structType}, registers, text, outputs + ties,
        /*has_side_effects=*/true, /*is_align_stack=*/false,
        LLVM::AsmDialectAttr(), ArrayAttr());
    // Back into each operand's vector, in the order the registers were
    // listed.
    SmallVector<Value> results(operands.size());
    int64_t next = 0;
    for (bool f16 : {false, true})
      for (auto [i, operand] : llvm::enumerate(operands)) {
        if (operand.f16 != f16)
          continue;
        SmallVector<SmallVector<Value>> accs(1);
        for (int64_t r = 0; r < operand.locals / (f16 ? 2 : 1); ++r)
          accs[0].push_back(rewriter.create<LLVM::ExtractValueOp>(
              loc, asmOp.getResult(0), next++));
        results[i] = insertAccumulatorRegisters(
            rewriter, loc, operand.lowered, accs, operand.locals,
            f16 ? 2 : 1, operand.element);
      }
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

bool tilus::kernelHasWgmma(Operation *op) {
  auto func = op->getParentOfType<func::FuncOp>();
  if (!func)
    return false;
  return func
      .walk([](DotOp dot) {
        return dot->hasAttr(kWgmmaAttr) ? WalkResult::interrupt()
                                        : WalkResult::advance();
      })
      .wasInterrupted();
}

void tilus::populateWgmmaLoweringPatterns(const TypeConverter &converter,
                                          RewritePatternSet &patterns,
                                          const TargetInfo &target,
                                          bool remarks) {
  // Ahead of mma.sync (benefit 2) and the SIMT dot.
  patterns.add<WgmmaDotLowering>(converter, patterns.getContext(), target,
                                 remarks);
  patterns.add<WaitDotLowering>(converter, patterns.getContext());
}
