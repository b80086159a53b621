//===- LayoutCodegen.cpp - Layout maps as per-thread arithmetic -----------===//

#include "codegen/LayoutCodegen.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace tilus;

SmallVector<Value> tilus::emitLayoutCoordinates(OpBuilder &builder,
                                                Location loc,
                                                const RegisterLayout &layout,
                                                Value threadId,
                                                int64_t local) {
  const std::vector<int64_t> &modeShape = layout.modeShape();
  const std::vector<int64_t> &modeDims = layout.modeDims();
  size_t numModes = modeShape.size();
  auto constant = [&](int64_t value) -> Value {
    return builder.create<arith::ConstantIntOp>(loc, value, 32);
  };

  // A mode's weight in its dimension's coordinate is the product of the
  // modes after it in that dimension (modes are dimension-major, outer first).
  std::vector<int64_t> dimStride(numModes, 1);
  for (size_t m = numModes; m-- > 0;)
    if (m + 1 < numModes && modeDims[m + 1] == modeDims[m])
      dimStride[m] = dimStride[m + 1] * modeShape[m + 1];

  std::vector<int64_t> constantPart(layout.rank(), 0);
  SmallVector<Value> coords(layout.rank());
  auto addTerm = [&](int64_t dim, Value term) {
    coords[dim] = coords[dim]
                      ? builder.create<arith::AddIOp>(loc, coords[dim], term)
                            .getResult()
                      : term;
  };

  // Thread digits, innermost first; a replicated mode (-n) only advances the
  // thread index.
  int64_t threadStride = 1;
  const std::vector<int64_t> &spatial = layout.spatialModes();
  for (size_t k = spatial.size(); k-- > 0;) {
    int64_t entry = spatial[k];
    int64_t size = entry < 0 ? -entry : modeShape[entry];
    if (entry >= 0 && size > 1) {
      Value digit = threadStride == 1
                        ? threadId
                        : builder.create<arith::DivUIOp>(loc, threadId,
                                                         constant(threadStride))
                              .getResult();
      if (threadStride * size < layout.numThreads())
        digit = builder.create<arith::RemUIOp>(loc, digit, constant(size));
      int64_t weight = dimStride[entry];
      addTerm(modeDims[entry],
              weight == 1 ? digit
                          : builder.create<arith::MulIOp>(loc, digit,
                                                          constant(weight))
                                .getResult());
    }
    threadStride *= size;
  }

  // Local digits are known at compile time.
  int64_t localStride = 1;
  const std::vector<int64_t> &locals = layout.localModes();
  for (size_t k = locals.size(); k-- > 0;) {
    int64_t mode = locals[k];
    int64_t digit = (local / localStride) % modeShape[mode];
    constantPart[modeDims[mode]] += digit * dimStride[mode];
    localStride *= modeShape[mode];
  }

  for (size_t dim = 0; dim < coords.size(); ++dim) {
    if (!coords[dim])
      coords[dim] = constant(constantPart[dim]);
    else if (constantPart[dim])
      coords[dim] = builder.create<arith::AddIOp>(loc, coords[dim],
                                                  constant(constantPart[dim]));
  }
  return coords;
}
