# Helpers shared by every component.

# Warnings for the project's own code.
function(tilus_target_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
endfunction()

# tilus_add_library(name SOURCES...): a static library rooted at the
# repository, so headers are included as "ir/dtype/DType.h".
function(tilus_add_library name)
  add_library(${name} STATIC ${ARGN})
  target_include_directories(${name} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}>
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<BUILD_INTERFACE:${PROJECT_BINARY_DIR}/include>)
  set_target_properties(${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  tilus_target_warnings(${name})
endfunction()

# tilus_add_unittest(name SOURCES... LIBS libs...): one gtest binary, run by
# ctest as one test with brief output (failures and the summary only).
function(tilus_add_unittest name)
  cmake_parse_arguments(ARG "" "" "SOURCES;LIBS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_LIBS} GTest::gtest_main)
  target_include_directories(${name} PRIVATE ${PROJECT_SOURCE_DIR})
  tilus_target_warnings(${name})
  add_test(NAME unit.${name} COMMAND ${name} --gtest_brief=1)
  set_tests_properties(unit.${name} PROPERTIES LABELS "unit"
                                               ENVIRONMENT "${TILUS_SANITIZE_ENV}")
  add_dependencies(tilus-check-deps ${name})
endfunction()
