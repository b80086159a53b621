//===- MatmulJit.cpp - matmul_a16wx compiled and dispatched by shape ------===//

#include "tilus/MatmulJit.h"

#include "ir/dtype/DType.h"

#include "runtime/jit/MatmulSource.inc"

using namespace tilus;

std::string_view MatmulA16Wx::source() { return kMatmulA16WxSource; }

MatmulA16Wx::MatmulA16Wx(Device &device, MatmulA16WxOptions options)
    : device(&device), options(std::move(options)) {
  std::optional<DType> weight = DType::parse(this->options.weightType);
  const MatmulA16WxOptions &o = this->options;
  if (!weight || weight->bitWidth() > 8 || weight->isBool() ||
      (weight->kind() == DType::Kind::SignedInt && weight->bitWidth() < 2))
    optionsError = Status::error("matmul_a16wx: weight type '" +
                                 o.weightType +
                                 "' is not one of u1..u8, i2..i8 or a float "
                                 "format of 3 to 8 bits");
  else if (o.activationType != "f16" && o.activationType != "bf16")
    optionsError = Status::error("matmul_a16wx: activation type '" +
                                 o.activationType + "' is not f16 or bf16");
  else if (o.zeroPoints && weight->kind() != DType::Kind::UnsignedInt)
    optionsError = Status::error("matmul_a16wx: zero points apply to "
                                 "unsigned weight types, not '" +
                                 o.weightType + "'");
  else
    bits = weight->bitWidth();
}

Expected<MatmulConfig> MatmulA16Wx::config(int64_t m, int64_t n,
                                           int64_t k) const {
  if (!optionsError)
    return optionsError;
  return selectMatmulConfig(m, n, k, bits, options.group);
}

Expected<Kernel> MatmulA16Wx::kernel(int64_t m, int64_t n, int64_t k) {
  Expected<MatmulConfig> tile = config(m, n, k);
  if (!tile)
    return tile.error();
  return kernelFor(*tile);
}

Expected<Kernel> MatmulA16Wx::kernelFor(const MatmulConfig &tile) {
  auto key = std::make_tuple(tile.bm, tile.bn, tile.bk, tile.splitK);
  if (auto it = kernels.find(key); it != kernels.end())
    return it->second;
  JitOptions jit = options.jit;
  jit.defines.clear();
  for (auto [name, value] : tile.defines())
    jit.defines[name] = std::to_string(value);
  jit.defines["W"] = options.weightType;
  jit.defines["T"] = options.activationType;
  jit.defines["G"] = std::to_string(options.group);
  jit.defines["ZP"] = options.zeroPoints ? "1" : "0";
  jit.kernel = "matmul_a16wx";
  Expected<Kernel> compiled =
      compile(*device, source(), "matmul_a16wx.tl", jit);
  if (!compiled)
    return compiled.error();
  kernels.emplace(key, *compiled);
  return *compiled;
}

Status MatmulA16Wx::launch(int64_t m, int64_t n, int64_t k, DevicePtr a,
                           DevicePtr b, DevicePtr scales, DevicePtr zeros,
                           DevicePtr c, Stream stream, LaunchStats *stats) {
  Expected<MatmulConfig> tile = config(m, n, k);
  if (!tile)
    return tile.error();
  Expected<Kernel> compiled = kernelFor(*tile);
  if (!compiled)
    return compiled.error();
  const std::string &t = options.activationType;
  uint64_t groups = static_cast<uint64_t>((k + options.group - 1) /
                                          options.group);
  uint64_t sideBytes = groups * n * 2;
  if (!options.zeroPoints && !zeros)
    zeros = scales; // not read without zero points
  // With split-K the slices' f32 products, then the tiles' arrival counts
  // (zeroed when the workspace is made; every launch leaves them at 0).
  uint64_t partialBytes =
      static_cast<uint64_t>(tile->splitK > 1 ? tile->splitK * m * n * 4 : 0);
  uint64_t tiles = static_cast<uint64_t>((m + tile->bm - 1) / tile->bm *
                                         (n / tile->bn));
  uint64_t arrivalBytes = tile->splitK > 1 ? tiles * 4 : 0;
  DevicePtr partial = c, arrivals = c; // not touched without split-K
  if (tile->splitK > 1) {
    uint64_t need = partialBytes + arrivalBytes;
    if (!workspace || workspace->bytes() < need) {
      workspace.reset();
      Expected<Buffer> grown = Buffer::create(*device, need);
      if (!grown)
        return grown.error();
      if (Status s = device->memset(grown->ptr(), 0, need); !s)
        return s;
      workspace.emplace(std::move(*grown));
    }
    partial = workspace->ptr();
    arrivals = workspace->ptr() + partialBytes;
  }
  std::vector<Arg> args = {
      Arg::buffer(a, static_cast<uint64_t>(m * k * 2), t),
      Arg::buffer(b, static_cast<uint64_t>(packedWeightBytes(k, n, bits)),
                  "u8"),
      Arg::buffer(scales, sideBytes, t),
      Arg::buffer(zeros, sideBytes, t),
      Arg::buffer(c, static_cast<uint64_t>(m * n * 2), t),
      Arg::buffer(partial, partialBytes, "f32"),
      Arg::buffer(arrivals, arrivalBytes, "i32"),
      Arg::i32(static_cast<int32_t>(m)),
      Arg::i32(static_cast<int32_t>(n)),
      Arg::i32(static_cast<int32_t>(k))};
  return compiled->launch(args, stream, stats);
}
