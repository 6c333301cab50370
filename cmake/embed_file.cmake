# Writes OUTPUT, a C++ file defining SYMBOL as the bytes of INPUT, so the
# binary serves the chat page with no files on disk.
#   cmake -DINPUT=web/index.html -DOUTPUT=x.cpp -DSYMBOL=web_index_html -P embed_file.cmake
file(READ "${INPUT}" hex HEX)
string(LENGTH "${hex}" hex_length)
math(EXPR size "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," bytes "${hex}")
string(REGEX REPLACE "(('\\\\x[0-9a-f][0-9a-f]',){16})" "\\1\n" bytes "${bytes}")
file(WRITE "${OUTPUT}.tmp"
  "// Generated from ${INPUT} by cmake/embed_file.cmake; do not edit.\n"
  "#include <string_view>\n"
  "namespace chrysopedia::web {\n"
  "namespace {\n"
  "constexpr char bytes[] = {\n${bytes}'\\0'};\n"
  "}  // namespace\n"
  "extern const std::string_view ${SYMBOL};\n"
  "const std::string_view ${SYMBOL}(bytes, ${size});\n"
  "}  // namespace chrysopedia::web\n")
# Only a changed file is rewritten, so an unchanged page recompiles nothing.
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
