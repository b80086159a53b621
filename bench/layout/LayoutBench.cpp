//===- LayoutBench.cpp - Cost of the hot layout queries -------------------===//
//
// Prints nanoseconds per query for the operations that layout inference,
// vectorization and instruction selection call in their inner loops. A
// program, not a test: the numbers depend on the machine.
//
//===----------------------------------------------------------------------===//

#include "ir/layout/Atoms.h"
#include "ir/layout/RegisterLayout.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

using namespace tilus;

namespace {

volatile int64_t sink;

/// Runs `body` (which performs `perCall` queries) for 5 rounds of at least
/// 0.05 s each and prints the best round's ns per query, which is the least
/// disturbed by other work on the machine.
template <typename F> void measure(const char *name, int64_t perCall, F body) {
  using Clock = std::chrono::steady_clock;
  double best = 0;
  for (int round = 0; round < 5; ++round) {
    int64_t calls = 0;
    auto start = Clock::now();
    double elapsed = 0;
    do {
      for (int i = 0; i < 16; ++i)
        body();
      calls += 16;
      elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < 0.05);
    double ns = elapsed * 1e9 / static_cast<double>(calls * perCall);
    best = round == 0 ? ns : std::min(best, ns);
  }
  std::printf("%-44s %10.1f ns/query\n", name, best);
}

} // namespace

int main() {
  // A 4-warp 64x64 f32 accumulator tile built from the mma atom.
  const RegisterLayout &atom = findLayoutAtom("mma.m16n8k16.f32.c")->layout;
  RegisterLayout tile = layout::spatial({2, 2}).local({2, 4}) * atom;
  std::printf("tile: %s  shape [%lld,%lld], %lld threads, %lld locals\n",
              tile.str().c_str(), (long long)tile.shape()[0],
              (long long)tile.shape()[1], (long long)tile.numThreads(),
              (long long)tile.numLocals());

  std::vector<int64_t> indices;
  for (int64_t r = 0; r < tile.shape()[0]; ++r)
    for (int64_t c = 0; c < tile.shape()[1]; ++c) {
      indices.push_back(r);
      indices.push_back(c);
    }
  int64_t elements = tile.size();

  measure("inverse map (localIndexOf + firstThreadOf)", elements, [&] {
    int64_t acc = 0;
    for (int64_t e = 0; e < elements; ++e)
      acc += tile.localIndexOf(&indices[2 * e]) +
             tile.firstThreadOf(&indices[2 * e]);
    sink = acc;
  });
  measure("inverse map (holders, allocating)", elements, [&] {
    int64_t acc = 0;
    std::vector<int64_t> index(2);
    for (int64_t e = 0; e < elements; ++e) {
      index[0] = indices[2 * e];
      index[1] = indices[2 * e + 1];
      acc += tile.holders(index).local;
    }
    sink = acc;
  });
  measure("forward map", tile.numThreads() * tile.numLocals(), [&] {
    int64_t acc = 0, out[2];
    for (int64_t t = 0; t < tile.numThreads(); ++t)
      for (int64_t i = 0; i < tile.numLocals(); ++i) {
        tile.map(t, i, out);
        acc += out[0] + out[1];
      }
    sink = acc;
  });
  measure("contiguity", 1, [&] { sink = tile.innerContiguity(); });
  measure("division tile / atom (success)", 1,
          [&] { sink = tile.divide(atom)->numLocals(); });
  RegisterLayout other = layout::columnSpatial({2, 2}).local({2, 4}) *
                         findLayoutAtom("mma.m16n8k16.f16.b")->layout;
  measure("division tile / atom (failure)", 1,
          [&] { sink = other.divide(atom).ok(); });
  measure("composition spatial(2,2).local(2,4) * atom", 1, [&] {
    sink = (layout::spatial({2, 2}).local({2, 4}) * atom).numThreads();
  });
  RegisterLayout outer = layout::spatial({2, 2}).local({2, 4});
  measure("composition (prebuilt operands)", 1,
          [&] { sink = (outer * atom).numThreads(); });
  std::string text = tile.str();
  measure("parse", 1, [&] { sink = parseRegisterLayout(text)->size(); });
  measure("print", 1, [&] { sink = static_cast<int64_t>(tile.str().size()); });
  RegisterLayout same = outer * atom;
  measure("equality (equal layouts)", 1, [&] { sink = same == tile; });
  measure("hash (precomputed)", 1,
          [&] { sink = static_cast<int64_t>(tile.hash()); });
  return 0;
}
