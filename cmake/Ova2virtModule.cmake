# ova2virt_module(NAME
#                 DEPS <project modules this one may use>
#                 LIBS <third-party targets, private to this module>
#                 TEST_LIBS <extra libraries for this module's tests>)
#
# Builds the static library ova2virt_<NAME> from every *.cc in the folder
# except *_test.cc and *_fuzz.cc, and, when there are *_test.cc files, the
# doctest executable <NAME>_tests whose cases ctest runs one by one.
# Third-party libraries are PRIVATE: no project header may include them, so a
# module's users (and their tests) never see them.
function(ova2virt_module NAME)
  cmake_parse_arguments(ARG "" "" "DEPS;LIBS;TEST_LIBS" ${ARGN})
  file(GLOB _all CONFIGURE_DEPENDS "${CMAKE_CURRENT_SOURCE_DIR}/*.cc")
  set(_srcs)
  set(_tests)
  set(_fuzzers)
  foreach(_f ${_all})
    if(_f MATCHES "_test\\.cc$")
      list(APPEND _tests ${_f})
    elseif(_f MATCHES "_fuzz\\.cc$")
      list(APPEND _fuzzers ${_f})
    else()
      list(APPEND _srcs ${_f})
    endif()
  endforeach()
  set(_lib ova2virt_${NAME})
  add_library(${_lib} STATIC ${_srcs})
  target_include_directories(${_lib} PUBLIC ${PROJECT_SOURCE_DIR})
  foreach(_d ${ARG_DEPS})
    if(NOT TARGET ova2virt_${_d})
      message(FATAL_ERROR "module ${NAME} depends on ${_d}, which is not built")
    endif()
    target_link_libraries(${_lib} PUBLIC ova2virt_${_d})
  endforeach()
  if(ARG_LIBS)
    target_link_libraries(${_lib} PRIVATE ${ARG_LIBS})
  endif()
  if(_tests)
    add_executable(${NAME}_tests ${_tests})
    target_link_libraries(${NAME}_tests PRIVATE ${_lib} ova2virt_testsupport
                          ${ARG_TEST_LIBS})
    doctest_discover_tests(${NAME}_tests TEST_PREFIX "${NAME}."
                           PROPERTIES TIMEOUT 300 LABELS unit)
  endif()
  foreach(_f ${_fuzzers})
    get_filename_component(_base "${_f}" NAME_WE)  # e.g. ovf_reader_fuzz
    if(OVA2VIRT_FUZZ)
      add_executable(${_base} ${_f})
      target_link_options(${_base} PRIVATE -fsanitize=fuzzer)
    else()
      add_executable(${_base} ${_f}
                     ${PROJECT_SOURCE_DIR}/tests/support/fuzz_replay_main.cc)
    endif()
    target_link_libraries(${_base} PRIVATE ${_lib})
    set_property(GLOBAL APPEND PROPERTY OVA2VIRT_FUZZERS ${_base})
  endforeach()
endfunction()

# ova2virt_fuzz_seeds(TARGET <paths...>)
#
# Replays the seed files and directories through fuzz target TARGET as an
# ordinary ctest test (label `fuzz-replay`), together with
# tests/fuzz/TARGET/ (crashes found so far and generated seeds), so every
# input that ever mattered keeps running in the normal build. The fuzz build
# (scripts/fuzz) uses the same paths as its seed corpus.
function(ova2virt_fuzz_seeds TARGET)
  set(_paths ${ARGN})
  set(_own "${PROJECT_SOURCE_DIR}/tests/fuzz/${TARGET}")
  if(EXISTS "${_own}")
    list(APPEND _paths "${_own}")
  endif()
  string(REPLACE ";" "\n" _lines "${_paths}")
  file(WRITE "${PROJECT_BINARY_DIR}/fuzz-seeds/${TARGET}.txt" "${_lines}\n")
  if(NOT OVA2VIRT_FUZZ)
    add_test(NAME fuzz-replay.${TARGET} COMMAND ${TARGET} ${_paths})
    set_tests_properties(fuzz-replay.${TARGET} PROPERTIES
                         LABELS "unit;fuzz-replay" TIMEOUT 300)
  endif()
endfunction()
