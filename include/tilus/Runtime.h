//===- Runtime.h - Load and launch tilus kernels ----------------*- C++ -*-===//
//
// The public C++ API of the tilus runtime core: devices, device memory,
// precompiled kernels (PTX or cubin plus their KernelInfo) and checked
// launches. Compiling `.tl` source is the JIT library's part (tilus/Jit.h).
//
//   auto dev = tilus::createDevice("emu");          // or "cuda", or ""
//   if (!dev) { std::cerr << dev.error().message(); return 1; }
//   auto kernel = tilus::loadKernel(**dev, ptx, info);
//   tilus::Buffer a = *tilus::Buffer::create(**dev, n * 4);
//   a.copyFrom(hostA.data());
//   tilus::Status s = kernel->launch({a.arg("f32"), ..., tilus::Arg::i32(n)});
//
// Every failure comes back as a Status or an Expected with a message that
// names what is wrong (the parameter and the rule for argument checks); the
// runtime never aborts or exits. Only the C++ standard library is used here.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_RUNTIME_H
#define TILUS_RUNTIME_H

#include "tilus/KernelInfo.h"
#include "tilus/Profile.h"
#include "tilus/Status.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tilus {

//===----------------------------------------------------------------------===//
// Errors as values
//===----------------------------------------------------------------------===//

// Status and Expected<T> (tilus/Status.h) carry every error of this API.

//===----------------------------------------------------------------------===//
// Devices
//===----------------------------------------------------------------------===//

/// A device address.
using DevicePtr = uint64_t;
/// A stream: the raw `CUstream` on the cuda device (0 is the default
/// stream, and a handle from PyTorch's `torch.cuda.current_stream()` may be
/// passed as is); ignored by the emulator, which runs launches in order.
using Stream = uint64_t;

struct Dim3 {
  uint32_t x = 1, y = 1, z = 1;
};

/// What a launch measured, when asked for.
struct LaunchStats {
  /// Kernel time from events around the launch (cuda), else host wall time.
  double milliseconds = 0;
  /// Warp instructions issued (emu only; 0 on a GPU).
  uint64_t warpInstructions = 0;
};

/// A function of a loaded module.
class DeviceFunction {
public:
  virtual ~DeviceFunction() = default;
  virtual const std::string &name() const = 0;
};

/// A loaded module (PTX or cubin).
class DeviceModule {
public:
  virtual ~DeviceModule() = default;
  /// The entry named \p name, or an error listing the entries.
  virtual Expected<std::shared_ptr<DeviceFunction>>
  function(std::string_view name) = 0;
};

/// A device: the CPU emulator ("emu") or a GPU through the CUDA Driver API
/// ("cuda"). Memory, modules and launches; launches are asynchronous on the
/// GPU and ordered per stream.
class Device {
public:
  virtual ~Device() = default;
  /// "emu" or "cuda".
  virtual std::string name() const = 0;
  /// One line: what the device is (GPU model, compute capability, driver).
  virtual std::string description() const = 0;
  /// The architecture to compile for, e.g. "sm_80".
  virtual std::string arch() const = 0;
  virtual Expected<DevicePtr> allocate(uint64_t bytes) = 0;
  virtual Status free(DevicePtr ptr) = 0;
  /// Copies are synchronous with respect to the default stream.
  virtual Status copyToDevice(DevicePtr dst, const void *src,
                              uint64_t bytes) = 0;
  virtual Status copyFromDevice(void *dst, DevicePtr src, uint64_t bytes) = 0;
  virtual Status memset(DevicePtr dst, uint8_t value, uint64_t bytes) = 0;
  /// Loads a module from PTX text or a cubin image; \p name names it in
  /// messages (the PTX JIT's error log is part of a failure's message).
  virtual Expected<std::shared_ptr<DeviceModule>>
  loadModule(std::string_view image, std::string name) = 0;
  /// Launches \p fn with the bytes of each parameter, in order. With
  /// \p stats, waits for the kernel and fills them in.
  virtual Status launch(const DeviceFunction &fn, Dim3 grid, Dim3 block,
                        uint32_t dynamicSharedBytes,
                        const std::vector<std::vector<uint8_t>> &params,
                        Stream stream = 0, LaunchStats *stats = nullptr) = 0;
  /// Whether the last launch, if it failed, still ran to its end, so device
  /// memory holds its results: the emulator's race check in report mode
  /// fails a launch only after it completed. False where a device cannot
  /// tell.
  virtual bool lastLaunchCompleted() const { return false; }
  virtual Expected<Stream> createStream() = 0;
  virtual Status destroyStream(Stream stream) = 0;
  /// Waits for every launch on \p stream.
  virtual Status synchronize(Stream stream = 0) = 0;

  /// Writes the 128-byte tensor map (CUtensorMap) of a tiled TMA box at
  /// \p tensorMap, from cuTensorMapEncodeTiled's arguments in its order,
  /// enums by cuda.h's values (dimensions and box innermost first, strides
  /// in bytes of dimensions 1 to rank-1): the cuda device calls the driver's
  /// cuTensorMapEncodeTiled, the emulator writes its own encoding of the
  /// same fields after the same checks (tilus::emu::encodeTensorMap,
  /// runtime/emu/TensorMap.h). Kernels that use TMA get their maps built
  /// this way at launch (docs/runtime.md, "Tensor maps").
  virtual Status encodeTensorMapTiled(
      void *tensorMap, uint32_t dataType, uint32_t rank,
      DevicePtr globalAddress, const uint64_t *globalDim,
      const uint64_t *globalStrides, const uint32_t *boxDim,
      const uint32_t *elementStrides, uint32_t interleave, uint32_t swizzle,
      uint32_t l2Promotion, uint32_t oobFill) {
    (void)tensorMap, (void)dataType, (void)rank, (void)globalAddress;
    (void)globalDim, (void)globalStrides, (void)boxDim, (void)elementStrides;
    (void)interleave, (void)swizzle, (void)l2Promotion, (void)oobFill;
    return Status::error("the " + name() + " device cannot build tensor maps");
  }

  /// Profiling (tilus/Profile.h, docs/profiling.md): with it on, every launch
  /// counts memory requests, sectors, wavefronts, DRAM bytes and
  /// instructions, and lastProfile() models the last launch's time on
  /// \p gpus (names findGpu accepts; empty: every known GPU). The emulator
  /// counts; a GPU device answers with an error. `TILUS_PROFILE` (any value
  /// but 0) turns it on for a device when it is created.
  /// \p sampleCtas > 0 runs only that many CTAs of each grid, evenly
  /// spaced, and scales the counts to the grid (for kernels whose CTAs do
  /// the same work and do not wait for each other; other CTAs' outputs are
  /// not written).
  virtual Status enableProfiling(bool on, uint32_t sampleCtas = 0) {
    (void)sampleCtas;
    if (on)
      return Status::error("profiling counts what the emulator sees: run on "
                           "the emu device (" + name() + " has no counters)");
    return Status::success();
  }
  virtual Expected<Profile> lastProfile(const std::vector<std::string> &gpus = {}) {
    (void)gpus;
    return Status::error("no profile: profiling is off or the device is " +
                         name());
  }
};

/// Creates the device named \p name: "emu", "cuda" (or "cuda:N" for the
/// N-th GPU). An empty name reads `TILUS_DEVICE`; when that is unset too,
/// the result is cuda when a driver and a GPU are present, else emu (with
/// one notice line on stderr saying why).
Expected<std::unique_ptr<Device>> createDevice(std::string_view name = "");

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

/// One launch argument: a device buffer (address, size in bytes when known,
/// element type when known) or a scalar.
struct Arg {
  enum class Kind { Buffer, Int, Float };
  Kind kind = Kind::Int;
  DevicePtr ptr = 0;
  uint64_t bytes = 0; ///< size of the buffer; 0 when unknown
  std::string dtype;  ///< element type of the buffer or scalar; "" = any
  int64_t intValue = 0;
  double floatValue = 0;

  static Arg buffer(DevicePtr ptr, uint64_t bytes = 0, std::string dtype = {});
  /// An integer scalar; its range is checked against the parameter's type.
  static Arg integer(int64_t value, std::string dtype = {});
  static Arg i32(int32_t value) { return integer(value, "i32"); }
  static Arg i64(int64_t value) { return integer(value, "i64"); }
  /// A float scalar, rounded to the parameter's type.
  static Arg real(double value, std::string dtype = {});
  static Arg f32(float value) { return real(value, "f32"); }
};

/// Device memory that frees itself.
class Buffer {
public:
  Buffer() = default;
  static Expected<Buffer> create(Device &device, uint64_t bytes);
  Buffer(Buffer &&other) noexcept { *this = std::move(other); }
  Buffer &operator=(Buffer &&other) noexcept;
  Buffer(const Buffer &) = delete;
  Buffer &operator=(const Buffer &) = delete;
  ~Buffer();

  DevicePtr ptr() const { return address; }
  uint64_t bytes() const { return size; }
  /// Copies `bytes()` bytes from / to the host.
  Status copyFrom(const void *host);
  Status copyTo(void *host) const;
  /// This buffer as a launch argument holding elements of \p dtype.
  Arg arg(std::string dtype = {}) const {
    return Arg::buffer(address, size, std::move(dtype));
  }

private:
  Device *device = nullptr;
  DevicePtr address = 0;
  uint64_t size = 0;
};

//===----------------------------------------------------------------------===//
// Kernels
//===----------------------------------------------------------------------===//

/// A launchable kernel: a device function and its KernelInfo. Cheap to copy;
/// it keeps its module loaded. The device must outlive it.
class Kernel {
public:
  Kernel(Device &device, std::shared_ptr<DeviceModule> module,
         std::shared_ptr<DeviceFunction> function, KernelInfo info);

  const KernelInfo &info() const { return kernelInfo; }
  Device &device() const { return *dev; }

  /// Checks \p args against the signature: count, dtypes, buffer sizes
  /// (from the shape expressions evaluated on the scalar arguments) and
  /// divisibility facts. The error names the parameter and the rule.
  Status check(const std::vector<Arg> &args) const;
  /// The grid: KernelInfo::grid evaluated on the scalar arguments.
  Expected<Dim3> grid(const std::vector<Arg> &args) const;
  /// The bytes of each parameter, after `check`.
  Expected<std::vector<std::vector<uint8_t>>>
  marshal(const std::vector<Arg> &args) const;
  /// Checks, computes the grid and launches on \p stream.
  Status launch(const std::vector<Arg> &args, Stream stream = 0,
                LaunchStats *stats = nullptr) const;

private:
  Device *dev;
  std::shared_ptr<DeviceModule> module;
  std::shared_ptr<DeviceFunction> function;
  KernelInfo kernelInfo;
};

/// Loads precompiled PTX (or a cubin) and returns the kernel that \p info
/// describes. The device's driver version and architecture are checked
/// against what the PTX needs.
Expected<Kernel> loadKernel(Device &device, std::string_view image,
                            const KernelInfo &info);

/// Loads \p image with the metadata JSON that `toJson` wrote, and returns
/// the kernel named \p kernelName (the only one when empty).
Expected<Kernel> loadKernel(Device &device, std::string_view image,
                            std::string_view metadataJson,
                            std::string_view kernelName = {});

/// Evaluates an integer expression of KernelInfo (grid extents, shapes):
/// decimal integers, names bound in \p values, + - * / % with C semantics,
/// parentheses, and cdiv/min/max calls.
Expected<int64_t>
evaluateExpr(std::string_view expr,
             const std::vector<std::pair<std::string, int64_t>> &values);

/// Bytes that \p count elements of \p dtype occupy, densely bit-packed.
Expected<uint64_t> storageBytes(std::string_view dtype, uint64_t count);

} // namespace tilus

#endif // TILUS_RUNTIME_H
