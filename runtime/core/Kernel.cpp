//===- Kernel.cpp - Checked launches of kernels with their KernelInfo -----===//

#include "runtime/core/Ptx.h"
#include "runtime/core/TensorMaps.h"

#include "ir/dtype/DType.h"
#include "tilus/Runtime.h"

#include <cmath>
#include <cstring>

using namespace tilus;

//===----------------------------------------------------------------------===//
// Arguments and buffers
//===----------------------------------------------------------------------===//

Arg Arg::buffer(DevicePtr ptr, uint64_t bytes, std::string dtype) {
  Arg a;
  a.kind = Kind::Buffer;
  a.ptr = ptr;
  a.bytes = bytes;
  a.dtype = std::move(dtype);
  return a;
}

Arg Arg::integer(int64_t value, std::string dtype) {
  Arg a;
  a.kind = Kind::Int;
  a.intValue = value;
  a.dtype = std::move(dtype);
  return a;
}

Arg Arg::real(double value, std::string dtype) {
  Arg a;
  a.kind = Kind::Float;
  a.floatValue = value;
  a.dtype = std::move(dtype);
  return a;
}

Expected<Buffer> Buffer::create(Device &device, uint64_t bytes) {
  Expected<DevicePtr> ptr = device.allocate(bytes);
  if (!ptr)
    return ptr.takeError();
  Buffer b;
  b.device = &device;
  b.address = *ptr;
  b.size = bytes;
  return b;
}

Buffer &Buffer::operator=(Buffer &&other) noexcept {
  if (this != &other) {
    if (device && address)
      (void)device->free(address);
    device = std::exchange(other.device, nullptr);
    address = std::exchange(other.address, 0);
    size = std::exchange(other.size, 0);
  }
  return *this;
}

Buffer::~Buffer() {
  if (device && address)
    (void)device->free(address);
}

Status Buffer::copyFrom(const void *host) {
  if (!device)
    return Status::error("copy into an empty buffer");
  return device->copyToDevice(address, host, size);
}

Status Buffer::copyTo(void *host) const {
  if (!device)
    return Status::error("copy out of an empty buffer");
  return device->copyFromDevice(host, address, size);
}

Expected<uint64_t> tilus::storageBytes(std::string_view dtype, uint64_t count) {
  std::string error;
  std::optional<DType> type = DType::parse(dtype, &error);
  if (!type)
    return Status::error(error);
  uint64_t bits = type->bitWidth();
  if (count > UINT64_MAX / bits)
    return Status::error("size overflow");
  return (count * bits + 7) / 8;
}

//===----------------------------------------------------------------------===//
// Checks
//===----------------------------------------------------------------------===//

namespace {

const char *kindName(const Arg &a) {
  switch (a.kind) {
  case Arg::Kind::Buffer:
    return "a buffer";
  case Arg::Kind::Int:
    return "an integer";
  case Arg::Kind::Float:
    return "a float";
  }
  return "?";
}

std::string paramText(const ParamInfo &p) {
  std::string s = p.name + ": ";
  if (p.isGlobal) {
    s += "global " + p.dtype + "[";
    for (size_t i = 0; i < p.shape.size(); ++i)
      s += (i ? ", " : "") + p.shape[i];
    return s + "]";
  }
  s += p.dtype;
  if (p.divisibility != 1)
    s += " %" + std::to_string(p.divisibility);
  return s;
}

/// Bytes of a scalar parameter of \p type in the kernel's parameter space.
uint32_t scalarBytes(DType type) {
  unsigned bits = type.bitWidth();
  return bits <= 8 ? 1 : bits <= 16 ? 2 : bits <= 32 ? 4 : 8;
}

/// The integer scalars, by name: what grid and shape expressions may use.
std::vector<std::pair<std::string, int64_t>>
scalarValues(const KernelInfo &info, const std::vector<Arg> &args) {
  std::vector<std::pair<std::string, int64_t>> values(info.constants.begin(),
                                                      info.constants.end());
  for (size_t i = 0; i < info.params.size() && i < args.size(); ++i)
    if (!info.params[i].isGlobal && args[i].kind == Arg::Kind::Int)
      values.emplace_back(info.params[i].name, args[i].intValue);
  return values;
}

Status checkScalar(const ParamInfo &p, DType type, const Arg &a) {
  std::string where = "parameter '" + p.name + "' (" + paramText(p) + "): ";
  if (a.kind == Arg::Kind::Buffer)
    return Status::error(where + "expected a " + p.dtype +
                         " scalar, got a buffer");
  if (!a.dtype.empty()) {
    std::optional<DType> given = DType::parse(a.dtype);
    if (!given || *given != type)
      return Status::error(where + "expected " + p.dtype + ", got " + a.dtype);
  }
  if (type.isInteger() || type.isBool()) {
    if (a.kind != Arg::Kind::Int)
      return Status::error(where + "expected an integer, got a float");
    long double v = a.intValue;
    if (v < type.lowest() || v > type.maxFinite())
      return Status::error(where + std::to_string(a.intValue) +
                           " is out of the range of " + p.dtype);
    if (p.divisibility > 1 && a.intValue % p.divisibility != 0)
      return Status::error(
          where + std::to_string(a.intValue) + " is not a multiple of " +
          std::to_string(p.divisibility) +
          ", breaking the divisibility fact '" + paramText(p) + "'");
  }
  return Status::success();
}

} // namespace

Kernel::Kernel(Device &device, std::shared_ptr<DeviceModule> module,
               std::shared_ptr<DeviceFunction> function, KernelInfo info)
    : dev(&device), module(std::move(module)), function(std::move(function)),
      kernelInfo(std::move(info)) {}

Status Kernel::check(const std::vector<Arg> &args) const {
  const KernelInfo &info = kernelInfo;
  if (args.size() != info.params.size()) {
    std::string list;
    for (const ParamInfo &p : info.params)
      list += (list.empty() ? "" : ", ") + p.name;
    return Status::error("kernel '" + info.name + "' takes " +
                         std::to_string(info.params.size()) + " arguments (" +
                         list + "), got " + std::to_string(args.size()));
  }
  // Scalars first: buffer sizes depend on their values.
  for (size_t i = 0; i < args.size(); ++i) {
    const ParamInfo &p = info.params[i];
    std::string error;
    std::optional<DType> type = DType::parse(p.dtype, &error);
    if (!type)
      return Status::error("parameter '" + p.name + "': " + error);
    if (p.isGlobal)
      continue;
    if (Status s = checkScalar(p, *type, args[i]); !s)
      return s;
  }
  std::vector<std::pair<std::string, int64_t>> values =
      scalarValues(info, args);
  for (size_t i = 0; i < args.size(); ++i) {
    const ParamInfo &p = info.params[i];
    const Arg &a = args[i];
    if (!p.isGlobal)
      continue;
    std::string where = "parameter '" + p.name + "' (" + paramText(p) + "): ";
    if (a.kind != Arg::Kind::Buffer)
      return Status::error(where + "expected a buffer of " + p.dtype +
                           ", got " + kindName(a));
    if (!a.dtype.empty()) {
      std::optional<DType> given = DType::parse(a.dtype);
      if (!given || *given != *DType::parse(p.dtype))
        return Status::error(where + "expected a buffer of " + p.dtype +
                             ", got a buffer of " + a.dtype);
    }
    if (a.bytes == 0)
      continue;
    uint64_t count = 1;
    std::string extents;
    for (const std::string &e : p.shape) {
      Expected<int64_t> v = evaluateExpr(e, values);
      if (!v)
        return Status::error(where + "shape extent: " + v.error().message());
      if (*v < 0)
        return Status::error(where + "extent " + e + " is negative (" +
                             std::to_string(*v) + ")");
      if (*v != 0 && count > UINT64_MAX / uint64_t(*v))
        return Status::error(where + "size overflow");
      count *= uint64_t(*v);
      extents += (extents.empty() ? "" : ", ") + std::to_string(*v);
    }
    Expected<uint64_t> need = storageBytes(p.dtype, count);
    if (!need)
      return Status::error(where + need.error().message());
    if (a.bytes < *need)
      return Status::error(where + "the buffer holds " +
                           std::to_string(a.bytes) + " bytes; " + p.dtype +
                           "[" + extents + "] needs " + std::to_string(*need));
  }
  return Status::success();
}

Expected<Dim3> Kernel::grid(const std::vector<Arg> &args) const {
  std::vector<std::pair<std::string, int64_t>> values =
      scalarValues(kernelInfo, args);
  uint32_t extents[3];
  for (int d = 0; d < 3; ++d) {
    Expected<int64_t> v = evaluateExpr(kernelInfo.grid[d], values);
    if (!v)
      return Status::error("grid of '" + kernelInfo.name +
                           "': " + v.error().message());
    if (*v < 0 || *v > INT32_MAX)
      return Status::error("grid of '" + kernelInfo.name + "': extent " +
                           kernelInfo.grid[d] + " = " + std::to_string(*v) +
                           " is out of range");
    extents[d] = static_cast<uint32_t>(*v);
  }
  return Dim3{extents[0], extents[1], extents[2]};
}

Expected<std::vector<std::vector<uint8_t>>>
Kernel::marshal(const std::vector<Arg> &args) const {
  if (Status s = check(args); !s)
    return s;
  std::vector<std::vector<uint8_t>> bytes;
  for (size_t i = 0; i < args.size(); ++i) {
    const ParamInfo &p = kernelInfo.params[i];
    const Arg &a = args[i];
    std::vector<uint8_t> b;
    if (p.isGlobal) {
      b.resize(sizeof(DevicePtr));
      std::memcpy(b.data(), &a.ptr, sizeof(DevicePtr));
    } else {
      DType type = *DType::parse(p.dtype);
      uint64_t code;
      if (type.isInteger() || type.isBool())
        code = static_cast<uint64_t>(a.intValue) & type.codeMask();
      else
        code = encode(type, a.kind == Arg::Kind::Int
                                ? static_cast<double>(a.intValue)
                                : a.floatValue);
      b.resize(scalarBytes(type));
      std::memcpy(b.data(), &code, b.size()); // little-endian host
    }
    bytes.push_back(std::move(b));
  }
  // The hidden tensor-map parameters of TMA copies come last.
  if (!kernelInfo.tensorMaps.empty()) {
    Expected<std::vector<std::vector<uint8_t>>> maps =
        buildTensorMaps(*dev, kernelInfo, args);
    if (!maps)
      return maps.takeError();
    for (std::vector<uint8_t> &map : *maps)
      bytes.push_back(std::move(map));
  }
  return bytes;
}

Status Kernel::launch(const std::vector<Arg> &args, Stream stream,
                      LaunchStats *stats) const {
  Expected<std::vector<std::vector<uint8_t>>> params = marshal(args);
  if (!params)
    return params.takeError();
  Expected<Dim3> g = grid(args);
  if (!g)
    return g.takeError();
  // An empty grid (n = 0) launches nothing; CUDA would reject it.
  if (uint64_t(g->x) * g->y * g->z == 0) {
    if (stats)
      *stats = LaunchStats();
    return Status::success();
  }
  Dim3 block{static_cast<uint32_t>(kernelInfo.numThreads), 1, 1};
  return dev->launch(*function, *g, block,
                     static_cast<uint32_t>(kernelInfo.sharedBytes), *params,
                     stream, stats);
}

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

Expected<Kernel> tilus::loadKernel(Device &device, std::string_view image,
                                   const KernelInfo &info) {
  Expected<std::shared_ptr<DeviceModule>> module =
      device.loadModule(image, info.name + (isPtx(image) ? ".ptx" : ".cubin"));
  if (!module)
    return module.takeError();
  Expected<std::shared_ptr<DeviceFunction>> fn = (*module)->function(info.name);
  if (!fn)
    return fn.takeError();
  return Kernel(device, *module, *fn, info);
}

Expected<Kernel> tilus::loadKernel(Device &device, std::string_view image,
                                   std::string_view metadataJson,
                                   std::string_view kernelName) {
  std::vector<KernelInfo> kernels;
  std::string error;
  if (!fromJson(metadataJson, kernels, error))
    return Status::error("kernel metadata: " + error);
  const KernelInfo *chosen = nullptr;
  std::string names;
  for (const KernelInfo &k : kernels) {
    names += (names.empty() ? "" : ", ") + k.name;
    if (kernelName.empty() ? kernels.size() == 1 : k.name == kernelName)
      chosen = &k;
  }
  if (!chosen)
    return Status::error(kernelName.empty()
                             ? "the metadata describes " +
                                   std::to_string(kernels.size()) +
                                   " kernels (" + names + "); name one"
                             : "no kernel '" + std::string(kernelName) +
                                   "' in the metadata; it has: " + names);
  return loadKernel(device, image, *chosen);
}
