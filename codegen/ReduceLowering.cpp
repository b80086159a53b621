//===- ReduceLowering.cpp - Reductions and the SIMT dot ---===//

#include "codegen/LayoutCodegen.h"
#include "codegen/TileLowering.h"

using namespace mlir;
using namespace tilus;

void tilus::populateReduceLoweringPatterns(const TypeConverter &converter,
                                RewritePatternSet &patterns) {}
