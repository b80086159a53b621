//===- OutputFile.cpp - Writing a tool's output file safely ---------------===//

#include "runtime/core/OutputFile.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tilus {
namespace {

Status failure(const std::string &path, int error) {
  return Status::error("cannot write '" + path + "': " + std::strerror(error));
}

/// Writes all of \p data to \p fd; the errno of the failure, or 0.
int writeAll(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return errno;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return 0;
}

/// Writes into what \p path already is (a device, a FIFO), without creating,
/// truncating or replacing it.
Status writeInPlace(const std::string &path, std::string_view data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return failure(path, errno);
  int error = writeAll(fd, data);
  if (::close(fd) != 0 && !error)
    error = errno;
  return error ? failure(path, error) : Status::success();
}

} // namespace

Status writeOutputFile(const std::string &path, std::string_view data) {
  if (path == "-") {
    std::fflush(stdout);
    int error = writeAll(STDOUT_FILENO, data);
    return error ? failure("<stdout>", error) : Status::success();
  }
  struct stat st;
  if (::stat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode))
      return Status::error("cannot write '" + path + "': it is a directory");
    return writeInPlace(path, data);
  }

  // A regular file or a new one: a temporary file in the same directory
  // (the rename must not cross file systems), created with the mode open()
  // gives a new file, renamed over the target.
  std::string temp;
  int fd = -1;
  for (unsigned attempt = 0; fd < 0; ++attempt) {
    temp = path + ".tmp-" + std::to_string(::getpid()) + "-" +
           std::to_string(attempt);
    fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 && (errno != EEXIST || attempt == 100))
      return failure(path, errno);
  }
  int error = writeAll(fd, data);
  if (::close(fd) != 0 && !error)
    error = errno;
  if (!error && ::rename(temp.c_str(), path.c_str()) != 0)
    error = errno;
  if (error) {
    ::unlink(temp.c_str());
    return failure(path, error);
  }
  return Status::success();
}

} // namespace tilus
