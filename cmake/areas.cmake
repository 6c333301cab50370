# One static library per area (docs/DEVELOPING.md). An area's sources see:
#   its own headers            "<area>/x.hpp"              (src/<area>)
#   its own public headers     "chrysopedia/<area>/x.hpp"  (include/chrysopedia/<area>)
#   the public headers of the areas it USES, and all of common/.
# Each sees them through an include root of its own in the build tree that
# holds only those folders (symbolic links), so an include that breaks the
# direction is "No such file or directory" at compile time, not a review
# comment. DRIVERS (libpqxx, hiredis, libcurl, ...) are linked privately.
#
#   chrysopedia_area(<area> SOURCES ... [USES area ...] [DRIVERS target ...]
#                    [INTERNALS_FOR_ALL])
#
# chrysopedia_<area>_internals adds the area's own headers (src/<area>) for
# the composition root (app/) and the tests, which build the concrete
# classes. INTERNALS_FOR_ALL makes those headers public (common/).
set(CHRYSOPEDIA_AREA_ROOTS ${CMAKE_BINARY_DIR}/area-includes)

function(_chrysopedia_link_folder target link)
  get_filename_component(parent ${link} DIRECTORY)
  file(MAKE_DIRECTORY ${parent})
  if(NOT EXISTS ${link})
    file(CREATE_LINK ${target} ${link} SYMBOLIC)
  endif()
endfunction()

function(chrysopedia_area area)
  cmake_parse_arguments(A "INTERNALS_FOR_ALL" "" "SOURCES;USES;DRIVERS" ${ARGN})
  set(public ${CHRYSOPEDIA_AREA_ROOTS}/${area}/public)
  set(private ${CHRYSOPEDIA_AREA_ROOTS}/${area}/private)
  file(MAKE_DIRECTORY ${public} ${private})
  if(EXISTS ${PROJECT_SOURCE_DIR}/include/chrysopedia/${area})
    _chrysopedia_link_folder(${PROJECT_SOURCE_DIR}/include/chrysopedia/${area}
                             ${public}/chrysopedia/${area})
  endif()
  _chrysopedia_link_folder(${PROJECT_SOURCE_DIR}/src/${area} ${private}/${area})

  set(lib chrysopedia_${area})
  add_library(${lib} STATIC ${A_SOURCES})
  if(A_INTERNALS_FOR_ALL)
    target_include_directories(${lib} PUBLIC ${public} ${private})
  else()
    target_include_directories(${lib} PUBLIC ${public} PRIVATE ${private})
  endif()
  foreach(used IN LISTS A_USES)
    target_link_libraries(${lib} PUBLIC chrysopedia_${used})
  endforeach()
  target_link_libraries(${lib} PRIVATE ${A_DRIVERS})

  add_library(${lib}_internals INTERFACE)
  target_include_directories(${lib}_internals INTERFACE ${private})
  # Not the drivers: what builds the area's classes does not include them.
  target_link_libraries(${lib}_internals INTERFACE ${lib})
  set_property(GLOBAL APPEND PROPERTY CHRYSOPEDIA_AREAS ${area})
endfunction()
