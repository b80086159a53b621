//===- Scratch.cpp - Shared memory that instructions borrow ---------------===//

#include "codegen/LayoutCodegen.h"
#include "codegen/TileLowering.h"

using namespace mlir;
using namespace tilus;

int64_t tilus::getScratchBytes(Operation *op) { return 0; }
