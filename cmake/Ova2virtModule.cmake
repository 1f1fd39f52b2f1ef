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
  foreach(_f ${_all})
    if(_f MATCHES "_test\\.cc$")
      list(APPEND _tests ${_f})
    elseif(NOT _f MATCHES "_fuzz\\.cc$")
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
endfunction()
