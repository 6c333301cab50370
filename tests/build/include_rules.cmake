# Holds the areas to the direction of docs/DEVELOPING.md, the way the build
# does: each probe is compiled with exactly the include paths the build
# gives that area's sources (build/area-flags/<area>.txt), so a probe the
# rules forbid fails here for the reason a real source would fail the build.
# Then: no driver header (libpqxx, libcurl, hiredis, OpenSSL, hnswlib) is
# included outside its area, not even through another area's headers.
#   cmake -DCXX=... -DFLAGS_DIR=... -DSOURCE_DIR=... -DWORK_DIR=... -P include_rules.cmake
cmake_minimum_required(VERSION 3.25)

set(failures 0)
macro(fail message)
  message(SEND_ERROR "${message}")
  math(EXPR failures "${failures} + 1")
endmacro()

function(area_flags area out)
  file(STRINGS ${FLAGS_DIR}/${area}.txt dirs)
  set(flags)
  foreach(dir IN LISTS dirs)
    # System folders are searched anyway; as -I they would upset libstdc++.
    if(NOT dir STREQUAL "/usr/include" AND NOT dir STREQUAL "")
      list(APPEND flags -I${dir})
    endif()
  endforeach()
  set(${out} ${flags} PARENT_SCOPE)
endfunction()

# <area> <header> <ok|forbidden>: ok probes are the control (the paths are
# right and the compiler runs), forbidden ones the rules.
set(probes
  "chat|chrysopedia/search/search_client.hpp|ok"
  "chat|chrysopedia/llm/llm_client.hpp|ok"
  "chat|common/utf8.hpp|ok"
  "chat|search/cascade.hpp|forbidden"          # another area's own header
  "chat|llm/upstream_sse_parser.hpp|forbidden"
  "chat|history/redis_connection.hpp|forbidden"
  "chat|app/worker_peers.hpp|forbidden"
  "http|chrysopedia/search/search_client.hpp|forbidden"  # http knows no chat or search
  "http|chat/chat_service.hpp|forbidden"
  "search|chrysopedia/http/router.hpp|forbidden"  # adapters know no HTTP server
  "llm|chrysopedia/http/router.hpp|forbidden"
  "history|chrysopedia/http/router.hpp|forbidden"
  "history|chrysopedia/search/search_client.hpp|forbidden"
  "config|chrysopedia/history/history_store.hpp|forbidden"
  "common|chrysopedia/config/settings.hpp|forbidden"  # common depends on nothing of ours
  "observability|chrysopedia/config/settings.hpp|forbidden"
  "llm|chrysopedia/search/embedder.hpp|ok"  # the embeddings client implements it
  "app|search/pg_search_client.hpp|ok"      # the composition root builds the adapters
  "openai|chat/chat_service.hpp|forbidden"  # the chat's own headers: its public ones only
  "chat|openai/source_url.hpp|forbidden"     # the chat knows none of its faces
)

file(MAKE_DIRECTORY ${WORK_DIR})
set(n 0)
foreach(probe IN LISTS probes)
  string(REPLACE "|" ";" parts "${probe}")
  list(GET parts 0 area)
  list(GET parts 1 header)
  list(GET parts 2 expect)
  math(EXPR n "${n} + 1")
  set(file ${WORK_DIR}/probe_${n}.cpp)
  file(WRITE ${file} "#include \"${header}\"\n")
  area_flags(${area} flags)
  execute_process(COMMAND ${CXX} -std=c++20 -fsyntax-only ${flags} ${file}
                  RESULT_VARIABLE code ERROR_VARIABLE err OUTPUT_QUIET)
  if(expect STREQUAL "ok" AND NOT code EQUAL 0)
    fail("${area} may include ${header}, but it does not compile:\n${err}")
  elseif(expect STREQUAL "forbidden")
    if(code EQUAL 0)
      fail("${area} includes ${header}, which the rules forbid, and the build lets it")
    elseif(NOT err MATCHES "No such file or directory")
      fail("${area} including ${header} fails, but not for want of the file:\n${err}")
    else()
      message(STATUS "refused as it should be: ${area} -> ${header}")
    endif()
  endif()
endforeach()

# Each driver's headers, and the one area they belong to.
set(drivers
  "pqxx/|search"
  "curl/curl.h|llm"
  "hiredis/|history"
  "openssl/|http"
  "hnswlib/|search")
file(GLOB_RECURSE sources RELATIVE ${SOURCE_DIR}/src ${SOURCE_DIR}/src/*.cpp ${SOURCE_DIR}/src/*.hpp)
file(GLOB_RECURSE public_headers RELATIVE ${SOURCE_DIR} ${SOURCE_DIR}/include/*.hpp)
foreach(source IN LISTS sources public_headers)
  if(source MATCHES "^include/")
    set(path ${SOURCE_DIR}/${source})
    set(area "(public headers)")
  else()
    set(path ${SOURCE_DIR}/src/${source})
    string(REGEX REPLACE "/.*" "" area "${source}")
  endif()
  file(STRINGS ${path} includes REGEX "^#include <")
  foreach(line IN LISTS includes)
    foreach(driver IN LISTS drivers)
      string(REPLACE "|" ";" parts "${driver}")
      list(GET parts 0 prefix)
      list(GET parts 1 owner)
      string(FIND "${line}" "<${prefix}" at)
      if(at EQUAL 0 OR at GREATER 0)
        if(NOT area STREQUAL owner)
          fail("${source} (${area}) includes ${line}: only ${owner}/ may")
        endif()
      endif()
    endforeach()
  endforeach()
endforeach()

# Nor through the headers of its area that the composition root includes
# to build the adapters: what each app/ source pulls in, as the compiler
# sees it.
area_flags(app app_flags)
file(GLOB app_sources ${SOURCE_DIR}/src/app/*.cpp)
foreach(source IN LISTS app_sources)
  execute_process(COMMAND ${CXX} -std=c++20 -M ${app_flags} ${source}
                  RESULT_VARIABLE code OUTPUT_VARIABLE deps ERROR_VARIABLE err)
  if(NOT code EQUAL 0)
    fail("cannot list what ${source} includes:\n${err}")
  endif()
  foreach(driver IN LISTS drivers)
    string(REPLACE "|" ";" parts "${driver}")
    list(GET parts 0 prefix)
    if(deps MATCHES "/${prefix}")
      fail("${source} reaches the ${prefix} headers through the headers it includes")
    endif()
  endforeach()
endforeach()

if(failures GREATER 0)
  message(FATAL_ERROR "${failures} rule(s) broken")
endif()
message(STATUS "${n} probes and the driver rules hold")
