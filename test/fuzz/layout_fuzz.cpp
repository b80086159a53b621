//===- layout_fuzz.cpp - libFuzzer target: the layout text parser ---------===//
//
// Reads the input as a register layout and as a shared layout (the parser of
// tilus-layout, of .tl annotations and of #tilus.layout<"..."> attributes).
// Whatever parses must print back to text that parses to the same layout.
//
//===----------------------------------------------------------------------===//

#include "ir/layout/RegisterLayout.h"
#include "ir/layout/SharedLayout.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  if (auto reg = tilus::parseRegisterLayout(text)) {
    auto again = tilus::parseRegisterLayout(reg->str());
    if (!again || !(*again == *reg))
      __builtin_trap();
  }
  if (auto shared = tilus::parseSharedLayout(text)) {
    auto again = tilus::parseSharedLayout(shared->str());
    if (!again || again->str() != shared->str())
      __builtin_trap();
  }
  return 0;
}
