# Locate Debian's LLVM/MLIR 19 (see docs/building.md for the pitfalls fixed here).
find_program(TILUS_LLVM_CONFIG NAMES llvm-config-19 llvm-config)
if(TILUS_LLVM_CONFIG)
  execute_process(COMMAND ${TILUS_LLVM_CONFIG} --prefix
    OUTPUT_VARIABLE TILUS_LLVM_PREFIX OUTPUT_STRIP_TRAILING_WHITESPACE)
endif()
find_package(MLIR REQUIRED CONFIG PATHS ${TILUS_LLVM_PREFIX}/lib/cmake/mlir)
find_package(LLVM REQUIRED CONFIG PATHS ${TILUS_LLVM_PREFIX}/lib/cmake/llvm)
message(STATUS "Using LLVM ${LLVM_PACKAGE_VERSION} from ${LLVM_DIR}")

# Debian ships no llvm-lit; lit.py lives in the build/ tree of llvm-19-tools.
set(LLVM_EXTERNAL_LIT ${TILUS_LLVM_PREFIX}/build/utils/lit/lit.py CACHE FILEPATH "lit")
# 19's TableGen depfiles make every ninja run re-run tablegen under CMP0116 NEW.
cmake_policy(SET CMP0116 OLD)

list(APPEND CMAKE_MODULE_PATH ${MLIR_CMAKE_DIR} ${LLVM_CMAKE_DIR})
set(LLVM_RUNTIME_OUTPUT_INTDIR ${CMAKE_BINARY_DIR}/bin)
set(LLVM_LIBRARY_OUTPUT_INTDIR ${CMAKE_BINARY_DIR}/lib)
set(MLIR_BINARY_DIR ${CMAKE_BINARY_DIR})
include(TableGen)
include(AddLLVM)
include(AddMLIR)

include_directories(SYSTEM ${LLVM_INCLUDE_DIRS} ${MLIR_INCLUDE_DIRS})
add_definitions(${LLVM_DEFINITIONS})
