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

# The compiler links LLVM's and MLIR's static component libraries by default:
# a process then starts in a fraction of the time the shared libLLVM and
# libMLIR take to load and relocate (docs/building.md, "Where compile time
# goes"). TILUS_SHARED_LLVM=ON links the shared libraries instead (faster
# links, slower start).
option(TILUS_SHARED_LLVM "Link the compiler against the shared libLLVM and libMLIR" OFF)
if(TILUS_SHARED_LLVM)
  set(TILUS_MLIR_LIBS MLIR)
  set(TILUS_LLVM_LIBS LLVM)
else()
  set(TILUS_MLIR_LIBS
    MLIRIR MLIRParser MLIRPass MLIRTransforms MLIRSupport
    MLIRFuncDialect MLIRArithDialect MLIRArithTransforms MLIRSCFDialect
    MLIRSCFTransforms MLIRControlFlowDialect MLIRVectorDialect MLIRLLVMDialect
    MLIRNVVMDialect MLIRLLVMCommonConversion MLIRArithToLLVM
    MLIRControlFlowToLLVM MLIRFuncToLLVM MLIRSCFToControlFlow
    MLIRVectorToLLVM MLIRReconcileUnrealizedCasts MLIRTargetLLVMIRExport
    MLIRBuiltinToLLVMIRTranslation MLIRLLVMToLLVMIRTranslation
    MLIRNVVMToLLVMIRTranslation)
  # Debian's MLIR archives name the shared libLLVM in their link interface;
  # LLVM's archives take its place (both at once would register every
  # command-line option twice).
  llvm_map_components_to_libnames(TILUS_LLVM_LIBS
    core support passes target targetparser mc nvptxcodegen nvptxdesc
    nvptxinfo asmparser irreader bitreader bitwriter transformutils analysis
    frontendopenmp frontendoffloading linker instcombine scalaropts ipo
    vectorize codegen selectiondag asmprinter demangle binaryformat object
    remarks profiledata)
  foreach(target IN LISTS MLIR_EXPORTED_TARGETS)
    if(TARGET ${target})
      get_target_property(type ${target} TYPE)
      get_target_property(libs ${target} INTERFACE_LINK_LIBRARIES)
      if(type STREQUAL "STATIC_LIBRARY" AND libs)
        list(TRANSFORM libs REPLACE "^LLVM$" "${TILUS_LLVM_LIBS}")
        set_target_properties(${target} PROPERTIES INTERFACE_LINK_LIBRARIES "${libs}")
      endif()
    endif()
  endforeach()
  # LLVMSupport's link interface names zstd's imported target.
  find_package(zstd REQUIRED)
  # lld links the archives in about a second, and in any order.
  include(CheckLinkerFlag)
  check_linker_flag(CXX -fuse-ld=lld TILUS_HAVE_LLD)
  if(TILUS_HAVE_LLD)
    add_link_options(-fuse-ld=lld)
  endif()
endif()
