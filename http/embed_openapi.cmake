# Writes ${OUT}: a C++ source defining attrib::http::OpenApiDocument() as the bytes of
# ${IN} (http/openapi.json), as a raw string literal.
file(READ ${IN} CONTENT)
string(FIND "${CONTENT}" ")openapi\"" FOUND)
if(NOT FOUND EQUAL -1)
  message(FATAL_ERROR "${IN} contains the raw-string delimiter )openapi\"")
endif()
file(WRITE ${OUT} "// Generated from http/openapi.json by http/embed_openapi.cmake.\n"
  "#include \"http/api.h\"\n"
  "namespace attrib::http {\n"
  "absl::string_view OpenApiDocument() {\n"
  "  static constexpr char kDoc[] = R\"openapi(${CONTENT})openapi\";\n"
  "  return absl::string_view(kDoc, sizeof(kDoc) - 1);\n"
  "}\n"
  "}  // namespace attrib::http\n")
