//===- Memory.h - The emulated device address space -------------*- C++ -*-===//
//
// Global memory as a set of allocations with known bounds, so that every
// access can be checked; freed memory is never reused by a later allocation
// at the same address, and allocations are separated by unmapped gaps.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_RUNTIME_EMU_MEMORY_H
#define TILUS_RUNTIME_EMU_MEMORY_H

#include "runtime/emu/Program.h"

#include <map>

namespace tilus::emu {

struct Allocation {
  uint64_t base = 0;
  uint64_t size = 0;
  std::vector<uint8_t> data;
};

class GlobalMemory {
public:
  uint64_t allocate(uint64_t bytes, uint64_t align = 256) {
    if (align < 256)
      align = 256;
    uint64_t base = (next + align - 1) / align * align;
    // A 64 KiB gap after every allocation: an overrun never lands in the
    // next one.
    next = base + bytes + 65536;
    Allocation &a = allocs[base];
    a.base = base;
    a.size = bytes;
    // The bytes up to the next multiple of 256 exist, as on a GPU (only an
    // atomic that leaves them unchanged may reach them: straddling()).
    a.data.assign((bytes + 255) / 256 * 256, 0);
    live += bytes;
    return base;
  }
  bool free(uint64_t base) {
    auto it = allocs.find(base);
    if (it == allocs.end())
      return false;
    if (last == &it->second)
      last = nullptr;
    live -= it->second.size;
    allocs.erase(it);
    return true;
  }
  /// The allocation holding [addr, addr+size), or null.
  Allocation *find(uint64_t addr, uint64_t size) {
    if (last && addr >= last->base && addr + size <= last->base + last->size &&
        addr + size >= addr)
      return last;
    auto it = allocs.upper_bound(addr);
    if (it == allocs.begin())
      return nullptr;
    --it;
    Allocation &a = it->second;
    if (addr >= a.base && addr + size <= a.base + a.size &&
        addr + size >= addr) {
      last = &a;
      return &a;
    }
    return nullptr;
  }
  /// The allocation that [addr, addr+size) starts inside and runs past the
  /// end of, into the allocation's padding to a multiple of 256 bytes, or
  /// null. A device allocation always has those bytes, so a word-sized
  /// atomic on the last bytes of a tensor does not fault on a GPU.
  Allocation *straddling(uint64_t addr, uint64_t size) {
    auto it = allocs.upper_bound(addr);
    if (it == allocs.begin())
      return nullptr;
    Allocation &a = std::prev(it)->second;
    uint64_t end = a.base + a.size;
    if (addr >= a.base && addr < end && addr + size > end &&
        addr + size <= a.base + a.data.size())
      return &a;
    return nullptr;
  }
  /// Bytes of the live allocations.
  uint64_t bytes() const { return live; }
  /// The allocation nearest below \p addr (for messages), or null.
  const Allocation *nearest(uint64_t addr) const {
    auto it = allocs.upper_bound(addr);
    if (it == allocs.begin())
      return nullptr;
    --it;
    return &it->second;
  }

private:
  std::map<uint64_t, Allocation> allocs;
  uint64_t next = kGlobalBase;
  uint64_t live = 0;
  Allocation *last = nullptr;
};

} // namespace tilus::emu

#endif // TILUS_RUNTIME_EMU_MEMORY_H
