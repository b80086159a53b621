//===- OutputFile.h - Writing a tool's output file safely -------*- C++ -*-===//
//
// How every tool writes a file it was asked for (-o, --metadata, --dump,
// tilus-pack-weights --out): a regular file, or a path that does not exist
// yet, gets the bytes through a temporary file beside it and a rename, so a
// failed write leaves the old content or nothing; anything else that exists
// (a device such as /dev/null, a FIFO, a terminal) is opened and written in
// place, never replaced. "-" is standard output. Standard library and POSIX
// only, so the runtime core can use it.
//
//===----------------------------------------------------------------------===//

#ifndef TILUS_RUNTIME_CORE_OUTPUTFILE_H
#define TILUS_RUNTIME_CORE_OUTPUTFILE_H

#include "tilus/Status.h"

#include <string>
#include <string_view>

namespace tilus {

/// Writes \p data to \p path as described above. The error names the path
/// and the reason (e.g. "No space left on device").
Status writeOutputFile(const std::string &path, std::string_view data);

} // namespace tilus

#endif // TILUS_RUNTIME_CORE_OUTPUTFILE_H
