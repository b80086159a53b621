# Writes include/tilus/Version.h with the commit the sources are at. Run at
# every build (the tilus_version target), so --version names the commit that
# was built, not the one CMake was configured at; configure_file leaves the
# header untouched while the commit stays the same, so nothing recompiles.
# Inputs: SOURCE_DIR, OUTPUT, PROJECT_VERSION.
execute_process(
  COMMAND git rev-parse --short=12 HEAD
  WORKING_DIRECTORY ${SOURCE_DIR}
  OUTPUT_VARIABLE TILUS_GIT_COMMIT
  OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
if(NOT TILUS_GIT_COMMIT)
  set(TILUS_GIT_COMMIT "unknown")
endif()
configure_file(${SOURCE_DIR}/include/tilus/Version.h.in ${OUTPUT} @ONLY)
