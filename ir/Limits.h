//===- Limits.h - Limits every reader of user text enforces -----*- C++ -*-===//
//
// The `.tl` parser, the layout-text parser, the evaluator of layout-annotation
// arguments and the kernel-cache reader all descend recursively, as do the
// walks over the trees they build (MLIRGen, the AST printer, the destructors).
// A recursion as deep as its input lets a few kilobytes of parentheses
// overflow the stack; one limit, checked where the input is read, bounds all
// of them and is reported as a located error. It is far above what a kernel
// needs and far below what an 8 MiB stack allows. docs/language.md and
// docs/layouts.md state it.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_IR_LIMITS_H
#define TILUS_IR_LIMITS_H

namespace tilus {

/// The deepest nesting of blocks, expressions (each operator, call, bracket
/// and parenthesis is one level), layout expressions and JSON values that any
/// tilus reader accepts.
constexpr unsigned kMaxNestingDepth = 256;

} // namespace tilus

#endif // TILUS_IR_LIMITS_H
