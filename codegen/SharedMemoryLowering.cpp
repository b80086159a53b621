//===- SharedMemoryLowering.cpp - Shared tensors, their transfers, asynchronous copies, barriers ---===//

#include "codegen/LayoutCodegen.h"
#include "codegen/TileLowering.h"

using namespace mlir;
using namespace tilus;

void tilus::populateSharedMemoryLoweringPatterns(const TypeConverter &converter,
                                RewritePatternSet &patterns) {}
