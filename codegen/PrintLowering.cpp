//===- PrintLowering.cpp - Printing from the device ---===//

#include "codegen/LayoutCodegen.h"
#include "codegen/TileLowering.h"

using namespace mlir;
using namespace tilus;

void tilus::populatePrintLoweringPatterns(const TypeConverter &converter,
                                RewritePatternSet &patterns) {}
