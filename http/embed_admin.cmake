# Writes ${OUT}: a C++ source defining attrib::http::AdminAssets() (http/admin_assets.h):
# every file of the admin page (${FILES}, a ;-list of paths under ${DIR}) as a raw
# string literal, with its URL path (/admin/<path>), Content-Type and an ETag (the
# first 16 hex digits of its SHA-256).
set(BODY "")
set(TABLE "")
set(I 0)
foreach(F ${FILES})
  file(READ ${DIR}/${F} CONTENT)
  string(FIND "${CONTENT}" ")admin\"" FOUND)
  if(NOT FOUND EQUAL -1)
    message(FATAL_ERROR "${DIR}/${F} contains the raw-string delimiter )admin\"")
  endif()
  file(SHA256 ${DIR}/${F} HASH)
  string(SUBSTRING ${HASH} 0 16 HASH)
  get_filename_component(EXT ${F} LAST_EXT)
  if(EXT STREQUAL ".html")
    set(TYPE "text/html; charset=utf-8")
  elseif(EXT STREQUAL ".css")
    set(TYPE "text/css; charset=utf-8")
  elseif(EXT STREQUAL ".js")
    set(TYPE "text/javascript; charset=utf-8")
  elseif(EXT STREQUAL ".svg")
    set(TYPE "image/svg+xml")
  else()
    message(FATAL_ERROR "${F}: no Content-Type known for '${EXT}' (http/embed_admin.cmake)")
  endif()
  string(APPEND BODY "constexpr char kFile${I}[] = R\"admin(${CONTENT})admin\";\n")
  string(APPEND TABLE "    {\"/admin/${F}\", \"${TYPE}\", \"\\\"${HASH}\\\"\",\n"
    "     absl::string_view(kFile${I}, sizeof(kFile${I}) - 1)},\n")
  math(EXPR I "${I} + 1")
endforeach()
file(WRITE ${OUT}.tmp "// Generated from http/admin/ by http/embed_admin.cmake.\n"
  "#include \"http/admin_assets.h\"\n"
  "namespace attrib::http {\n"
  "namespace {\n"
  "${BODY}"
  "constexpr AdminAsset kAssets[] = {\n${TABLE}};\n"
  "}  // namespace\n"
  "absl::Span<const AdminAsset> AdminAssets() { return kAssets; }\n"
  "}  // namespace attrib::http\n")
file(COPY_FILE ${OUT}.tmp ${OUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUT}.tmp)
