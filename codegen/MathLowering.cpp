//===- MathLowering.cpp - Elementwise functions, comparisons, selection, casts, views ---===//

#include "codegen/LayoutCodegen.h"
#include "codegen/TileLowering.h"

using namespace mlir;
using namespace tilus;

void tilus::populateMathLoweringPatterns(const TypeConverter &converter,
                                RewritePatternSet &patterns) {}
