//===- CudaDevice.cpp - A GPU through the CUDA Driver API -----------------===//
//
// The driver is opened with dlopen at run time, never linked, so the runtime
// loads on machines without one and says what is missing instead.
//
//===----------------------------------------------------------------------===//

#include "runtime/cuda/CudaDevice.h"

#include "runtime/core/Ptx.h"
#include "runtime/cuda/CudaApi.h"

#include <dlfcn.h>

#include <cstdlib>
#include <mutex>

using namespace tilus;
using namespace tilus::cuda;

namespace {

/// Names of the errors the runtime meets, for when the library cannot name
/// them itself (the toolkit's stub library answers every call with 34).
const char *fallbackErrorName(CUresult r) {
  switch (static_cast<int>(r)) {
  case 1:
    return "CUDA_ERROR_INVALID_VALUE";
  case 2:
    return "CUDA_ERROR_OUT_OF_MEMORY";
  case 3:
    return "CUDA_ERROR_NOT_INITIALIZED";
  case 34:
    return "CUDA_ERROR_STUB_LIBRARY";
  case 35:
    return "CUDA_ERROR_INSUFFICIENT_DRIVER";
  case 100:
    return "CUDA_ERROR_NO_DEVICE";
  case 101:
    return "CUDA_ERROR_INVALID_DEVICE";
  case 209:
    return "CUDA_ERROR_NO_BINARY_FOR_GPU";
  case 218:
    return "CUDA_ERROR_INVALID_PTX";
  case 222:
    return "CUDA_ERROR_UNSUPPORTED_PTX_VERSION";
  case 999:
    return "CUDA_ERROR_UNKNOWN";
  }
  return "CUDA error";
}

/// The process-wide driver: loaded and initialised once.
struct Driver {
  DriverApi api{};
  std::string error; ///< why the driver is unusable; empty when it is fine
  int version = 0;

  std::string describe(CUresult r) const {
    const char *name = nullptr;
    const char *text = nullptr;
    if (api.cuGetErrorName && api.cuGetErrorName(r, &name) != CUDA_SUCCESS)
      name = nullptr;
    if (api.cuGetErrorString && api.cuGetErrorString(r, &text) != CUDA_SUCCESS)
      text = nullptr;
    std::string s = name ? name : fallbackErrorName(r);
    s += " (" + std::to_string(static_cast<int>(r)) + ")";
    if (text)
      s += std::string(": ") + text;
    return s;
  }
};

const Driver &driver() {
  static Driver d;
  static std::once_flag once;
  std::call_once(once, [] {
    const char *path = std::getenv("TILUS_LIBCUDA");
    if (!path || !*path)
      path = "libcuda.so.1";
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      const char *why = dlerror();
      d.error = "NVIDIA driver not available: " + std::string(why ? why : path);
      return;
    }
    std::string missing;
    auto bind = [&](auto &fn, const char *name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(
          dlsym(lib, name));
      if (!fn)
        missing += (missing.empty() ? "" : ", ") + std::string(name);
    };
    DriverApi &a = d.api;
    bind(a.cuInit, "cuInit");
    bind(a.cuDriverGetVersion, "cuDriverGetVersion");
    bind(a.cuGetErrorName, "cuGetErrorName");
    bind(a.cuGetErrorString, "cuGetErrorString");
    bind(a.cuDeviceGetCount, "cuDeviceGetCount");
    bind(a.cuDeviceGet, "cuDeviceGet");
    bind(a.cuDeviceGetName, "cuDeviceGetName");
    bind(a.cuDeviceGetAttribute, "cuDeviceGetAttribute");
    bind(a.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain");
    bind(a.cuDevicePrimaryCtxRelease, "cuDevicePrimaryCtxRelease_v2");
    bind(a.cuCtxSetCurrent, "cuCtxSetCurrent");
    bind(a.cuCtxSynchronize, "cuCtxSynchronize");
    bind(a.cuMemAlloc, "cuMemAlloc_v2");
    bind(a.cuMemFree, "cuMemFree_v2");
    bind(a.cuMemcpyHtoD, "cuMemcpyHtoD_v2");
    bind(a.cuMemcpyDtoH, "cuMemcpyDtoH_v2");
    bind(a.cuMemsetD8, "cuMemsetD8_v2");
    bind(a.cuModuleLoadDataEx, "cuModuleLoadDataEx");
    bind(a.cuModuleUnload, "cuModuleUnload");
    bind(a.cuModuleGetFunction, "cuModuleGetFunction");
    bind(a.cuFuncSetAttribute, "cuFuncSetAttribute");
    bind(a.cuLaunchKernel, "cuLaunchKernel");
    bind(a.cuStreamCreate, "cuStreamCreate");
    bind(a.cuStreamDestroy, "cuStreamDestroy_v2");
    bind(a.cuStreamSynchronize, "cuStreamSynchronize");
    bind(a.cuEventCreate, "cuEventCreate");
    bind(a.cuEventRecord, "cuEventRecord");
    bind(a.cuEventSynchronize, "cuEventSynchronize");
    bind(a.cuEventElapsedTime, "cuEventElapsedTime");
    bind(a.cuEventDestroy, "cuEventDestroy_v2");
    // Optional: only kernels with TMA copies need it.
    a.cuTensorMapEncodeTiled =
        reinterpret_cast<decltype(a.cuTensorMapEncodeTiled)>(
            dlsym(lib, "cuTensorMapEncodeTiled"));
    if (!missing.empty()) {
      d.error = "NVIDIA driver not available: " + std::string(path) +
                " lacks " + missing;
      return;
    }
    if (CUresult r = a.cuInit(0); r != CUDA_SUCCESS) {
      d.error =
          "NVIDIA driver not available: cuInit failed with " + d.describe(r);
      if (static_cast<int>(r) == 34)
        d.error += "; " + std::string(path) +
                   " is the CUDA toolkit's stub library, not a driver";
      return;
    }
    if (CUresult r = a.cuDriverGetVersion(&d.version); r != CUDA_SUCCESS)
      d.error = "NVIDIA driver not available: cuDriverGetVersion failed "
                "with " +
                d.describe(r);
  });
  return d;
}

class CudaModule;

class CudaFunction final : public DeviceFunction {
public:
  CudaFunction(CUfunction fn, std::string name)
      : fn(fn), fnName(std::move(name)) {}
  const std::string &name() const override { return fnName; }
  CUfunction fn;
  std::string fnName;
  /// The dynamic shared memory limit set so far; launches above 48 KiB
  /// raise it through cuFuncSetAttribute once.
  mutable int sharedLimit = 48 * 1024;
  mutable std::mutex mutex;
};

class CudaDevice;

class CudaModule final : public DeviceModule {
public:
  CudaModule(const CudaDevice &dev, CUmodule module, std::string name)
      : dev(dev), module(module), name(std::move(name)) {}
  ~CudaModule() override;
  Expected<std::shared_ptr<DeviceFunction>>
  function(std::string_view fnName) override;

private:
  const CudaDevice &dev;
  CUmodule module;
  std::string name;
};

class CudaDevice final : public Device {
public:
  CudaDevice(int ordinal, CUdevice device, CUcontext ctx, std::string model,
             int ccMajor, int ccMinor)
      : ordinal(ordinal), device(device), ctx(ctx), model(std::move(model)),
        ccMajor(ccMajor), ccMinor(ccMinor) {}
  ~CudaDevice() override {
    bind();
    api().cuDevicePrimaryCtxRelease(device);
  }

  const DriverApi &api() const { return driver().api; }
  /// Makes the primary context current on the calling thread.
  void bind() const { api().cuCtxSetCurrent(ctx); }
  Status check(CUresult r, const std::string &what) const {
    if (r == CUDA_SUCCESS)
      return Status::success();
    return Status::error(what + ": " + driver().describe(r));
  }

  std::string name() const override {
    return ordinal ? "cuda:" + std::to_string(ordinal) : "cuda";
  }
  std::string description() const override {
    return model + " (sm_" + std::to_string(ccMajor) + std::to_string(ccMinor) +
           "), CUDA driver " + driverVersionText(driver().version);
  }
  std::string arch() const override {
    // The newest target the compiler has that this GPU runs; the driver
    // JIT-compiles sm_90 PTX for newer GPUs.
    int cc = ccMajor * 10 + ccMinor;
    if (cc == 90)
      return "sm_90a";
    if (cc > 90)
      return "sm_90";
    if (cc >= 89)
      return "sm_89";
    if (cc >= 86)
      return "sm_86";
    return "sm_80";
  }
  Expected<DevicePtr> allocate(uint64_t bytes) override {
    bind();
    CUdeviceptr p = 0;
    if (Status s = check(api().cuMemAlloc(&p, bytes ? bytes : 1),
                         "cannot allocate " + std::to_string(bytes) + " bytes");
        !s)
      return s;
    return DevicePtr(p);
  }
  Status encodeTensorMapTiled(void *tensorMap, uint32_t dataType,
                              uint32_t rank, DevicePtr globalAddress,
                              const uint64_t *globalDim,
                              const uint64_t *globalStrides,
                              const uint32_t *boxDim,
                              const uint32_t *elementStrides,
                              uint32_t interleave, uint32_t swizzle,
                              uint32_t l2Promotion,
                              uint32_t oobFill) override {
    if (!api().cuTensorMapEncodeTiled)
      return Status::error("the NVIDIA driver lacks cuTensorMapEncodeTiled "
                           "(CUDA 12 or later is needed for TMA)");
    static_assert(sizeof(unsigned long long) == sizeof(uint64_t));
    return check(api().cuTensorMapEncodeTiled(
                     tensorMap, dataType, rank,
                     reinterpret_cast<void *>(globalAddress),
                     reinterpret_cast<const unsigned long long *>(globalDim),
                     reinterpret_cast<const unsigned long long *>(globalStrides),
                     boxDim, elementStrides, interleave, swizzle, l2Promotion,
                     oobFill),
                 "cuTensorMapEncodeTiled");
  }
  Status free(DevicePtr ptr) override {
    bind();
    return check(api().cuMemFree(ptr), "cuMemFree");
  }
  Status copyToDevice(DevicePtr dst, const void *src, uint64_t bytes) override {
    bind();
    return check(api().cuMemcpyHtoD(dst, src, bytes), "cuMemcpyHtoD");
  }
  Status copyFromDevice(void *dst, DevicePtr src, uint64_t bytes) override {
    bind();
    return check(api().cuMemcpyDtoH(dst, src, bytes), "cuMemcpyDtoH");
  }
  Status memset(DevicePtr dst, uint8_t value, uint64_t bytes) override {
    bind();
    return check(api().cuMemsetD8(dst, value, bytes), "cuMemsetD8");
  }
  Expected<std::shared_ptr<DeviceModule>>
  loadModule(std::string_view image, std::string moduleName) override {
    std::string text(image); // the driver wants PTX NUL-terminated
    if (isPtx(image)) {
      if (Status s = checkPtx(image, moduleName); !s)
        return s;
    }
    bind();
    std::string errorLog(16384, '\0'), infoLog(16384, '\0');
    CUjit_option options[] = {
        CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
        CU_JIT_INFO_LOG_BUFFER, CU_JIT_INFO_LOG_BUFFER_SIZE_BYTES};
    void *values[] = {
        errorLog.data(), reinterpret_cast<void *>(uintptr_t(errorLog.size())),
        infoLog.data(), reinterpret_cast<void *>(uintptr_t(infoLog.size()))};
    CUmodule module = nullptr;
    CUresult r =
        api().cuModuleLoadDataEx(&module, text.c_str(), 4, options, values);
    if (r != CUDA_SUCCESS) {
      errorLog.resize(errorLog.find('\0'));
      std::string msg = "cannot load '" + moduleName + "' on " + description() +
                        ": " + driver().describe(r);
      if (!errorLog.empty())
        msg += "\nPTX JIT log:\n" + errorLog;
      return Status::error(msg);
    }
    return std::shared_ptr<DeviceModule>(
        std::make_shared<CudaModule>(*this, module, moduleName));
  }
  Status launch(const DeviceFunction &fn, Dim3 grid, Dim3 block,
                uint32_t dynamicSharedBytes,
                const std::vector<std::vector<uint8_t>> &params, Stream stream,
                LaunchStats *stats) override {
    const auto *f = dynamic_cast<const CudaFunction *>(&fn);
    if (!f)
      return Status::error("'" + fn.name() + "' was not loaded on " + name());
    bind();
    if (dynamicSharedBytes > 48 * 1024) {
      std::lock_guard<std::mutex> lock(f->mutex);
      if (static_cast<int>(dynamicSharedBytes) > f->sharedLimit) {
        if (Status s = check(
                api().cuFuncSetAttribute(
                    f->fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES,
                    static_cast<int>(dynamicSharedBytes)),
                "cannot give '" + f->fnName + "' " +
                    std::to_string(dynamicSharedBytes) +
                    " bytes of dynamic shared memory");
            !s)
          return s;
        f->sharedLimit = static_cast<int>(dynamicSharedBytes);
      }
    }
    std::vector<void *> pointers;
    for (const std::vector<uint8_t> &p : params)
      pointers.push_back(const_cast<uint8_t *>(p.data()));
    CUstream s = reinterpret_cast<CUstream>(static_cast<uintptr_t>(stream));
    CUevent start = nullptr, stop = nullptr;
    if (stats) {
      if (Status st = check(api().cuEventCreate(&start, CU_EVENT_DEFAULT),
                            "cuEventCreate");
          !st)
        return st;
      (void)check(api().cuEventCreate(&stop, CU_EVENT_DEFAULT),
                  "cuEventCreate");
      api().cuEventRecord(start, s);
    }
    Status result =
        check(api().cuLaunchKernel(f->fn, grid.x, grid.y, grid.z, block.x,
                                   block.y, block.z, dynamicSharedBytes, s,
                                   pointers.data(), nullptr),
              "cannot launch '" + f->fnName + "'");
    if (stats) {
      api().cuEventRecord(stop, s);
      if (result) {
        result =
            check(api().cuEventSynchronize(stop), "'" + f->fnName + "' failed");
        float ms = 0;
        if (result)
          api().cuEventElapsedTime(&ms, start, stop);
        *stats = LaunchStats();
        stats->milliseconds = ms;
      }
      api().cuEventDestroy(start);
      api().cuEventDestroy(stop);
    }
    return result;
  }
  Expected<Stream> createStream() override {
    bind();
    CUstream s = nullptr;
    if (Status st = check(api().cuStreamCreate(&s, CU_STREAM_NON_BLOCKING),
                          "cuStreamCreate");
        !st)
      return st;
    return Stream(reinterpret_cast<uintptr_t>(s));
  }
  Status destroyStream(Stream stream) override {
    bind();
    return check(api().cuStreamDestroy(reinterpret_cast<CUstream>(
                     static_cast<uintptr_t>(stream))),
                 "cuStreamDestroy");
  }
  Status synchronize(Stream stream) override {
    bind();
    return check(api().cuStreamSynchronize(reinterpret_cast<CUstream>(
                     static_cast<uintptr_t>(stream))),
                 "kernel failed");
  }

private:
  /// Says clearly when the driver is too old for the PTX ISA or the GPU
  /// too old for the target, before the driver's terser error.
  Status checkPtx(std::string_view ptx, const std::string &moduleName) const {
    std::optional<PtxHeader> h = parsePtxHeader(ptx);
    if (!h)
      return Status::error("cannot load '" + moduleName +
                           "': no .version directive; is it PTX?");
    std::string isa = std::to_string(h->major) + "." + std::to_string(h->minor);
    int need = minimumDriverForPtx(h->major, h->minor);
    if (need == 0 || driver().version < need)
      return Status::error(
          "cannot load '" + moduleName + "': it is PTX ISA " + isa +
          ", which needs " +
          (need ? "a CUDA " + driverVersionText(need) + " driver or newer"
                : "a driver newer than any known") +
          "; the installed NVIDIA driver supports CUDA " +
          driverVersionText(driver().version) +
          " (update the driver, or "
          "compile for an older PTX "
          "ISA)");
    const std::string &t = h->target;
    if (t.rfind("sm_", 0) == 0 && t.size() >= 5) {
      int cc = std::atoi(t.c_str() + 3);
      int have = ccMajor * 10 + ccMinor;
      bool archSpecific = t.back() == 'a';
      if (cc > have || (archSpecific && cc != have))
        return Status::error("cannot load '" + moduleName + "': it targets " +
                             t + ", which " + description() + " cannot run");
    }
    return Status::success();
  }

  int ordinal;
  CUdevice device;
  CUcontext ctx;
  std::string model;
  int ccMajor, ccMinor;
};

CudaModule::~CudaModule() {
  dev.bind();
  dev.api().cuModuleUnload(module);
}

Expected<std::shared_ptr<DeviceFunction>>
CudaModule::function(std::string_view fnName) {
  dev.bind();
  CUfunction fn = nullptr;
  std::string n(fnName);
  if (Status s =
          dev.check(dev.api().cuModuleGetFunction(&fn, module, n.c_str()),
                    "no kernel '" + n + "' in '" + name + "'");
      !s)
    return s;
  return std::shared_ptr<DeviceFunction>(std::make_shared<CudaFunction>(fn, n));
}

} // namespace

Expected<std::unique_ptr<Device>> tilus::createCudaDevice(int ordinal) {
  const Driver &d = driver();
  if (!d.error.empty())
    return Status::error(d.error);
  const DriverApi &a = d.api;
  int count = 0;
  if (CUresult r = a.cuDeviceGetCount(&count); r != CUDA_SUCCESS)
    return Status::error("no NVIDIA GPU: cuDeviceGetCount failed with " +
                         d.describe(r));
  if (count == 0)
    return Status::error("no NVIDIA GPU: the driver (CUDA " +
                         driverVersionText(d.version) +
                         ") reports CUDA_ERROR_NO_DEVICE (100): no device");
  if (ordinal < 0 || ordinal >= count)
    return Status::error("no NVIDIA GPU cuda:" + std::to_string(ordinal) +
                         ": there are " + std::to_string(count));
  CUdevice dev;
  if (CUresult r = a.cuDeviceGet(&dev, ordinal); r != CUDA_SUCCESS)
    return Status::error("no NVIDIA GPU: cuDeviceGet failed with " +
                         d.describe(r));
  char model[256] = {0};
  a.cuDeviceGetName(model, sizeof model - 1, dev);
  int major = 0, minor = 0;
  a.cuDeviceGetAttribute(&major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
                         dev);
  a.cuDeviceGetAttribute(&minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
                         dev);
  CUcontext ctx = nullptr;
  if (CUresult r = a.cuDevicePrimaryCtxRetain(&ctx, dev); r != CUDA_SUCCESS)
    return Status::error("cannot use " + std::string(model) +
                         ": cuDevicePrimaryCtxRetain failed with " +
                         d.describe(r));
  return std::unique_ptr<Device>(
      std::make_unique<CudaDevice>(ordinal, dev, ctx, model, major, minor));
}
