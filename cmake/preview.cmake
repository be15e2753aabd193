# preview.cmake: `ciak preview`, the designers' window (src/preview*.c). GLFW (Debian's
# libglfw3-dev) opens the window and its Vulkan surface; stb_easy_font (libstb-dev) draws the
# overlay text. Both stay in src/: libciak has no window system (STYLE.md).
pkg_check_modules(CIAK_GLFW REQUIRED IMPORTED_TARGET glfw3)
find_path(CIAK_PREVIEW_STB_INCLUDE stb_easy_font.h PATH_SUFFIXES stb REQUIRED)
# ciak_cli is defined after the cmake/ parts are included; cmake_language(DEFER) links it
# once the whole directory is processed.
cmake_language(DEFER CALL target_link_libraries ciak_cli PRIVATE PkgConfig::CIAK_GLFW)
cmake_language(DEFER CALL target_include_directories ciak_cli SYSTEM PRIVATE
               ${CIAK_PREVIEW_STB_INCLUDE})
