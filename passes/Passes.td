//===- Passes.td - tilus passes ----------------------------*- tablegen -*-===//

#ifndef TILUS_PASSES_TD
#define TILUS_PASSES_TD

include "mlir/Pass/PassBase.td"

def InferLayouts : Pass<"tilus-infer-layouts", "mlir::ModuleOp"> {
  let summary = "Give every register tile without a layout one";
  let description = [{
    One rule per instruction, applied in program order (the list is at the
    top of passes/InferLayouts.cpp and in docs/language.md): anchors get the
    default layout of their shape, elementwise results follow their first
    operand, reductions reduce their source's layout, dot derives its
    operands' layouts from the accumulator's. Operands whose layout differs
    from the one a rule needs get a `tilus.convert_layout`. With `remarks`,
    each conversion gets a remark at the instruction that needed it: the
    layouts, the rule, and what the lowering will spend on it (shared bytes,
    barriers and shared-memory accesses, or nothing when it stays in each
    thread's registers). On sm_90a a dot whose operands are shared tiles in
    wgmma layouts gets the wgmma accumulator layout and the `tilus.wgmma`
    attribute.
  }];
  let options = [
    Option<"arch", "arch", "std::string", /*default=*/"\"sm_80\"",
           "Target architecture, for the instructions a dot may use">,
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "Emit a remark for each layout conversion inserted, with its cost">
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect"];
}

def Vectorize : Pass<"tilus-vectorize", "mlir::ModuleOp"> {
  let summary = "Choose the vector width of every global load, store and copy";
  let description = [{
    Gives every `tilus.load_global` and `tilus.store_global` whose tile has
    a layout a `tilus.vector` attribute: the number of consecutive elements
    one thread moves with one access and one bound check. It is the largest
    power of two of at most 16 bytes that divides the layout's run of
    consecutive local elements along the innermost dimension (contiguity),
    the innermost offset and, for rank > 1, the row stride (alignment), and
    the innermost extent (mask constancy). Every `tilus.copy_async` gets the
    width the alignment and mask rules allow: its chunks of that many
    elements (or a divisor) need no run-time alignment test. Divisibility
    comes from constants, `scf.for` bounds, arith and the
    `tilus.divisibility` facts of kernel parameters. Base pointers are
    assumed 16-byte aligned. With `remarks`, each access gets a remark
    giving its width and the rule that refused a wider one.
  }];
  let options = [
    Option<"remarks", "remarks", "bool", /*default=*/"false",
           "Emit a remark with the width chosen for each access">
  ];
  let statistics = [
    Statistic<"numVectorized", "vectorized",
              "Number of accesses given a width above 1">
  ];
}

def PlanSharedMemory : Pass<"tilus-plan-shared-memory", "mlir::ModuleOp"> {
  let summary = "Place shared tensors and scratch areas in dynamic shared memory";
  let description = [{
    Gives every `tilus.alloc_shared` of a kernel a byte offset
    (`tilus.shared_offset`, i64) by first fit over live intervals: from the
    allocation to its `free_shared` or last use (the end of the kernel
    without a free), widened to whole loops the tensor outlives. Offsets are
    16-byte aligned, 128 for swizzled layouts. Instructions that need
    scratch (layout conversions through shared memory, cross-warp
    reductions) get `tilus.scratch_offset` above the tensors live at them.
    The kernel gets `tilus.shared_bytes`, its dynamic shared memory in
    bytes; more than the target allows is an error.
  }];
  let options = [
    Option<"arch", "arch", "std::string", /*default=*/"\"sm_80\"",
           "Target architecture, for its shared-memory limit">
  ];
  let statistics = [
    Statistic<"numAllocations", "allocations", "Number of shared tensors placed">,
    Statistic<"numScratchAreas", "scratch-areas", "Number of scratch areas placed">
  ];
}

#endif // TILUS_PASSES_TD
