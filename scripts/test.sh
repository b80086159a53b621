#!/usr/bin/env bash
# Sets up, builds everything and runs the whole test suite (gtest + lit)
# under ctest. lit's own summary (passed/unsupported/failed) is printed;
# ctest's summary line ends the output.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${BUILD_DIR:-$root/build}
"$root/scripts/setup.sh"
if [[ -d /usr/local/cuda/bin ]]; then export PATH="$PATH:/usr/local/cuda/bin"; fi
cd "$build_dir"
# -V shows each test's own summary (gtest's brief report, lit's counts); the
# filter drops ctest's configuration chatter around them.
set +e
ctest -V -LE "full|fuzz" "$@" 2>&1 | grep -v -E '^(UpdateCTestConfiguration|Parse Config file|Add coverage exclude|Constructing a list|Updating test list|Checking test dependency|Test command:|Working Directory:|Environment variables:|test [0-9]+$)'
status=${PIPESTATUS[0]}
exit "$status"
