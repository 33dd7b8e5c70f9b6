# fotasim_add_cmocka_test(NAME SOURCES ... LIBS ... [LABELS ...]): one CMocka
# binary registered as one CTest. Debian's cmocka ships no imported target,
# so the pkg-config one is used.
find_package(PkgConfig REQUIRED)
pkg_check_modules(CMOCKA QUIET IMPORTED_TARGET cmocka)
if(NOT CMOCKA_FOUND)
  message(FATAL_ERROR "cmocka not found (pkg-config cmocka): apt-get install libcmocka-dev")
endif()

function(fotasim_add_cmocka_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES})
  target_compile_options(${name} PRIVATE ${FOTASIM_WARNINGS})
  target_link_libraries(${name} PRIVATE ${T_LIBS} PkgConfig::CMOCKA)
  add_test(NAME ${name} COMMAND ${name})
  # CMocka prints its [  PASSED  ] / [  FAILED  ] summary on stdout, which
  # ctest --output-on-failure shows; -V shows it for passing tests too.
  set_tests_properties(${name} PROPERTIES ENVIRONMENT "CMOCKA_MESSAGE_OUTPUT=STDOUT")
  if(T_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}")
  endif()
endfunction()
