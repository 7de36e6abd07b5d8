# Compiler flags every shakedown target gets: through an interface library, so that
# third-party code is never built with them.
add_library(shakedown_flags INTERFACE)
# Only while building shakedown: an installed shakedown imposes no flags on its users.
target_compile_options(shakedown_flags INTERFACE $<BUILD_INTERFACE:-Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor
                                                 # Parameter structs have defaults and are meant to be
                                                 # filled in part: {10_ms, 2_ms}.
                                                 -Wno-missing-field-initializers>)
if(SHAKEDOWN_WERROR)
  target_compile_options(shakedown_flags INTERFACE $<BUILD_INTERFACE:-Werror>)
endif()
if(SHAKEDOWN_SANITIZE)
  target_compile_options(shakedown_flags INTERFACE $<BUILD_INTERFACE:-fsanitize=address,undefined -fno-omit-frame-pointer
                                                   -fno-sanitize-recover=undefined>)
  target_link_options(shakedown_flags INTERFACE $<BUILD_INTERFACE:-fsanitize=address,undefined>)
endif()
if(SHAKEDOWN_FUZZ)
  # Coverage for libFuzzer in every project library; the fuzz target itself links the
  # fuzzer's main (tests/CMakeLists.txt).
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "SHAKEDOWN_FUZZ needs clang (libFuzzer): use the 'fuzz' preset, after "
                        "scripts/install-deps.sh --fuzz installs clang and libclang-rt-14-dev")
  endif()
  target_compile_options(shakedown_flags INTERFACE $<BUILD_INTERFACE:-fsanitize=fuzzer-no-link>)
endif()
