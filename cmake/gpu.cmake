# gpu.cmake: the Vulkan compositor (engine/gpu): shaders compiled by glslang at build time and
# embedded in libciak, Vulkan and stb linked in, and the GPU benchmark (bench/gpu).

find_package(Vulkan REQUIRED)
find_program(CIAK_GLSLANG NAMES glslangValidator REQUIRED)

set(CIAK_SHADER_SRC ${PROJECT_SOURCE_DIR}/shaders)
set(CIAK_SHADER_OUT ${PROJECT_BINARY_DIR}/shaders)
set(CIAK_SHADERS quad.vert rect.frag image.frag video.frag text.frag nv12.comp video_bg.comp
    fill.frag yuv_bg.comp yuv_over.comp)
file(MAKE_DIRECTORY ${CIAK_SHADER_OUT})

set(ciak_spv_files)
set(ciak_spv_names)
foreach(s ${CIAK_SHADERS})
  string(REPLACE "." "_" n ${s})
  add_custom_command(
    OUTPUT ${CIAK_SHADER_OUT}/${n}.spv
    COMMAND ${CIAK_GLSLANG} -V --target-env vulkan1.2 -I${CIAK_SHADER_SRC}
            -o ${CIAK_SHADER_OUT}/${n}.spv ${CIAK_SHADER_SRC}/${s}
    DEPENDS ${CIAK_SHADER_SRC}/${s} ${CIAK_SHADER_SRC}/common.glsl
    COMMENT "glslang ${s}" VERBATIM)
  list(APPEND ciak_spv_files ${CIAK_SHADER_OUT}/${n}.spv)
  list(APPEND ciak_spv_names ${n})
endforeach()

add_custom_command(
  OUTPUT ${CIAK_SHADER_OUT}/ck_gpu_shaders.c ${CIAK_SHADER_OUT}/ck_gpu_shaders.h
  COMMAND ${CMAKE_COMMAND} "-DNAMES=${ciak_spv_names}" -DDIR=${CIAK_SHADER_OUT}
          -DOUT_C=${CIAK_SHADER_OUT}/ck_gpu_shaders.c -DOUT_H=${CIAK_SHADER_OUT}/ck_gpu_shaders.h
          -P ${CIAK_SHADER_SRC}/embed.cmake
  DEPENDS ${ciak_spv_files} ${CIAK_SHADER_SRC}/embed.cmake
  COMMENT "embedding SPIR-V" VERBATIM)

target_sources(ciak PRIVATE ${CIAK_SHADER_OUT}/ck_gpu_shaders.c)
target_include_directories(ciak PRIVATE ${CIAK_SHADER_OUT})
# stb (Debian's libstb-dev headers); its implementation is compiled once, in gpu_stb.c, with
# warnings off because it is third-party code.
find_path(CIAK_STB_INCLUDE stb_truetype.h PATH_SUFFIXES stb REQUIRED)
target_include_directories(ciak SYSTEM PRIVATE ${CIAK_STB_INCLUDE})
# Under CIAK_SANITIZE, UBSan is off for stb alone: stb_image_write's JPEG path left-shifts
# negative ints by design (a known, harmless report); AddressSanitizer stays on.
set(ciak_stb_flags -w)
if(CIAK_SANITIZE)
  list(APPEND ciak_stb_flags -fno-sanitize=undefined)
endif()
set_source_files_properties(${PROJECT_SOURCE_DIR}/engine/gpu/gpu_stb.c PROPERTIES COMPILE_OPTIONS "${ciak_stb_flags}")
target_link_libraries(ciak PUBLIC Vulkan::Vulkan)

# ---- bench/gpu: compositor + NV12 readback vs libx264 encode of the same frame ----
# libx264 directly (not through libavcodec): a small dependency, so the bench can be carried
# to a GPU machine that lacks FFmpeg.
pkg_check_modules(CIAK_BENCH_X264 IMPORTED_TARGET x264)
if(CIAK_BENCH_X264_FOUND AND EXISTS ${PROJECT_SOURCE_DIR}/bench/gpu/bench_gpu.c)
  add_executable(ciak_bench_gpu ${PROJECT_SOURCE_DIR}/bench/gpu/bench_gpu.c)
  target_compile_options(ciak_bench_gpu PRIVATE ${CIAK_WARNINGS})
  target_compile_definitions(ciak_bench_gpu PRIVATE CK_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
  target_link_libraries(ciak_bench_gpu PRIVATE ciak PkgConfig::CIAK_BENCH_X264)
endif()
