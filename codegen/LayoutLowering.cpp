//===- LayoutLowering.cpp - Moving elements between threads and registers ---===//

#include "codegen/LayoutCodegen.h"
#include "codegen/TileLowering.h"

using namespace mlir;
using namespace tilus;

void tilus::populateLayoutLoweringPatterns(const TypeConverter &converter,
                                RewritePatternSet &patterns) {}
