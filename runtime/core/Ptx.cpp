//===- Ptx.cpp - What a PTX module asks of the driver ---------------------===//

#include "runtime/core/Ptx.h"

#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <stdlib.h>
#include <unistd.h>

using namespace tilus;

bool tilus::isPtx(std::string_view image) {
  return !(image.size() >= 4 && image.substr(0, 4) == "\x7f"
                                                      "ELF");
}

namespace {

/// The word after \p directive (at the start of a line), or "".
std::string_view directiveOperand(std::string_view text,
                                  std::string_view directive) {
  size_t pos = 0;
  while ((pos = text.find(directive, pos)) != std::string_view::npos) {
    bool lineStart = pos == 0 || text[pos - 1] == '\n';
    pos += directive.size();
    if (!lineStart || pos >= text.size() || !std::isspace(text[pos]))
      continue;
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t'))
      ++pos;
    size_t end = pos;
    while (end < text.size() && !std::isspace(text[end]) && text[end] != ',')
      ++end;
    return text.substr(pos, end - pos);
  }
  return {};
}

} // namespace

std::optional<PtxHeader> tilus::parsePtxHeader(std::string_view ptx) {
  std::string_view version = directiveOperand(ptx, ".version");
  size_t dot = version.find('.');
  if (dot == std::string_view::npos)
    return std::nullopt;
  PtxHeader h;
  try {
    h.major = std::stoi(std::string(version.substr(0, dot)));
    h.minor = std::stoi(std::string(version.substr(dot + 1)));
  } catch (...) {
    return std::nullopt;
  }
  h.target = std::string(directiveOperand(ptx, ".target"));
  return h;
}

int tilus::minimumDriverForPtx(int major, int minor) {
  // From the PTX ISA release notes: ISA 7.x shipped with CUDA 11.x, 8.0-8.5
  // with 12.0-12.5, then 8.6 with 12.7, 8.7 with 12.8, 8.8 with 12.9 and 9.0
  // with 13.0.
  if (major == 7)
    return 11000 + 10 * minor;
  if (major == 8 && minor <= 5)
    return 12000 + 10 * minor;
  if (major == 8 && minor <= 8)
    return 12070 + 10 * (minor - 6);
  if (major == 9 && minor == 0)
    return 13000;
  if (major < 7)
    return 10000;
  return 0;
}

std::string tilus::driverVersionText(int version) {
  return std::to_string(version / 1000) + "." +
         std::to_string(version % 1000 / 10);
}

std::string tilus::findPtxas() {
  if (const char *env = std::getenv("TILUS_PTXAS"); env && *env)
    return env;
  if (const char *path = std::getenv("PATH")) {
    std::string dirs = path;
    size_t start = 0;
    while (start <= dirs.size()) {
      size_t end = dirs.find(':', start);
      if (end == std::string::npos)
        end = dirs.size();
      std::string candidate = dirs.substr(start, end - start) + "/ptxas";
      if (end > start && ::access(candidate.c_str(), X_OK) == 0)
        return candidate;
      start = end + 1;
    }
  }
  const char *fallback = "/usr/local/cuda/bin/ptxas";
  return ::access(fallback, X_OK) == 0 ? fallback : "";
}

std::optional<int> tilus::ptxasRegisters(std::string_view ptx,
                                         const std::string &kernel) {
  std::string ptxas = findPtxas();
  std::optional<PtxHeader> header = parsePtxHeader(ptx);
  if (ptxas.empty() || !header || header->target.empty())
    return std::nullopt;
  char dir[] = "/tmp/tilus-ptxas-XXXXXX";
  if (!::mkdtemp(dir))
    return std::nullopt;
  std::string in = std::string(dir) + "/k.ptx", out = std::string(dir) + "/k.o";
  std::optional<int> regs;
  if (FILE *f = std::fopen(in.c_str(), "wb")) {
    bool ok = std::fwrite(ptx.data(), 1, ptx.size(), f) == ptx.size();
    ok &= std::fclose(f) == 0;
    std::string cmd = "'" + ptxas + "' -v -arch=" + header->target + " -o '" +
                      out + "' '" + in + "' 2>&1";
    FILE *p = ok ? ::popen(cmd.c_str(), "r") : nullptr;
    if (p) {
      // "Compiling entry function 'K' for 'sm_80'" ... "Used N registers".
      std::string text;
      char buf[4096];
      size_t n;
      while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
        text.append(buf, n);
      if (::pclose(p) == 0) {
        size_t at = text.find("entry function '" + kernel + "'");
        size_t used = at == std::string::npos ? at : text.find("Used ", at);
        if (used != std::string::npos)
          regs = std::atoi(text.c_str() + used + 5);
      }
    }
  }
  ::unlink(in.c_str());
  ::unlink(out.c_str());
  ::rmdir(dir);
  return regs;
}
