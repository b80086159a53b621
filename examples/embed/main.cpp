//===- main.cpp - Embedding the tilus runtime in a C++ program ------------===//
//
//   embed KERNEL.tl [DEVICE]           compile with the JIT, then run
//   embed KERNEL.ptx META.json [DEVICE] run a precompiled kernel
//
// Runs vector_add on random inputs on DEVICE (default: emu) and checks every
// element against the host. Exit status 0 when all match.
//
//===----------------------------------------------------------------------===//

#include "tilus/Runtime.h"
#if EMBED_HAS_COMPILER
#include "tilus/Jit.h"
#endif

#include <fstream>
#include <iostream>
#include <random>
#include <sstream>

namespace {

std::string readFile(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool endsWith(const std::string &s, const std::string &suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

int fail(const std::string &message) {
  std::cerr << "embed: error: " << message << "\n";
  return 1;
}

} // namespace

int main(int argc, char **argv) {
  if (argc < 2)
    return fail("usage: embed KERNEL.tl [DEVICE] | KERNEL.ptx META.json "
                "[DEVICE]");
  std::string file = argv[1];
  bool precompiled = endsWith(file, ".ptx");
  int deviceArg = precompiled ? 3 : 2;
  std::string deviceName = argc > deviceArg ? argv[deviceArg] : "emu";

  tilus::Expected<std::unique_ptr<tilus::Device>> device =
      tilus::createDevice(deviceName);
  if (!device)
    return fail(device.error().message());
  tilus::Device &dev = **device;

  std::optional<tilus::Expected<tilus::Kernel>> kernel;
  if (precompiled) {
    if (argc < 3)
      return fail("a .ptx kernel needs its metadata .json");
    kernel.emplace(tilus::loadKernel(dev, readFile(file), readFile(argv[2])));
  } else {
#if EMBED_HAS_COMPILER
    kernel.emplace(tilus::compileFile(dev, file));
#else
    return fail("this tilus package has no compiler; pass KERNEL.ptx "
                "META.json");
#endif
  }
  if (!*kernel)
    return fail((*kernel).error().message());

  int n = 4099;
  std::mt19937 rng(2024);
  std::uniform_real_distribution<float> dist(-100, 100);
  std::vector<float> a(n), b(n), c(n);
  for (int i = 0; i < n; ++i) {
    a[i] = dist(rng);
    b[i] = dist(rng);
  }
  auto alloc = [&](const std::vector<float> &host) {
    tilus::Expected<tilus::Buffer> buf = tilus::Buffer::create(dev, 4 * n);
    if (buf)
      (void)buf->copyFrom(host.data());
    return buf;
  };
  tilus::Expected<tilus::Buffer> da = alloc(a), db = alloc(b), dc = alloc(c);
  if (!da || !db || !dc)
    return fail("cannot allocate device memory");
  tilus::Status s = (*kernel)->launch(
      {da->arg("f32"), db->arg("f32"), dc->arg("f32"), tilus::Arg::i32(n)});
  if (!s)
    return fail(s.message());
  if (tilus::Status copy = dc->copyTo(c.data()); !copy)
    return fail(copy.message());
  for (int i = 0; i < n; ++i)
    if (c[i] != a[i] + b[i])
      return fail("element " + std::to_string(i) + " is wrong");
  std::cout << "embed: " << (*kernel)->info().name << " on " << dev.name()
            << ": " << n << " elements match the host\n";
  return 0;
}
