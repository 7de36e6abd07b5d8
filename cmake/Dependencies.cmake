# Every library shakedown uses, found the standard way. When one is missing the error
# names the Debian package that provides it; scripts/install-deps.sh installs them all.

function(shakedown_require package debian_package)
  find_package(${package} CONFIG QUIET)
  if(NOT ${package}_FOUND)
    find_package(${package} QUIET)
  endif()
  if(NOT ${package}_FOUND)
    message(FATAL_ERROR
      "shakedown needs ${package}, which was not found.\n"
      "On Debian 12 install the package '${debian_package}' "
      "(or run scripts/install-deps.sh, which installs everything the build needs).")
  endif()
endfunction()

shakedown_require(fmt libfmt-dev)
shakedown_require(Protobuf "libprotobuf-dev protobuf-compiler")
shakedown_require(yaml-cpp libyaml-cpp-dev)
shakedown_require(CLI11 libcli11-dev)
shakedown_require(nlohmann_json nlohmann-json3-dev)
# Boost.Asio (header-only): the real-time driver's event loop and its devices.
shakedown_require(Boost libboost-dev)
find_package(Threads REQUIRED)
# METIS (partitions for distributed runs) ships no CMake or pkg-config file on Debian.
find_path(METIS_INCLUDE_DIR metis.h)
find_library(METIS_LIBRARY metis)
if(NOT METIS_INCLUDE_DIR OR NOT METIS_LIBRARY)
  message(FATAL_ERROR
    "shakedown needs METIS, which was not found.\n"
    "On Debian 12 install the package 'libmetis-dev' "
    "(or run scripts/install-deps.sh, which installs everything the build needs).")
endif()
add_library(shakedown_metis INTERFACE)
target_include_directories(shakedown_metis SYSTEM INTERFACE ${METIS_INCLUDE_DIR})
target_link_libraries(shakedown_metis INTERFACE ${METIS_LIBRARY})
# ns-3 3.37 (the second engine, docs/ns3.md): Debian's libns3-dev, which needs
# libgsl-dev without pulling it in. No CMake file is installed for it either.
find_path(NS3_INCLUDE_DIR ns3/point-to-point-module.h)
set(NS3_LIBRARIES "")
foreach(module point-to-point internet traffic-control network core)
  find_library(NS3_${module}_LIBRARY ns3-${module})
  if(NOT NS3_${module}_LIBRARY)
    set(NS3_INCLUDE_DIR NS3_INCLUDE_DIR-NOTFOUND)
  endif()
  list(APPEND NS3_LIBRARIES ${NS3_${module}_LIBRARY})
endforeach()
if(NOT NS3_INCLUDE_DIR)
  message(FATAL_ERROR
    "shakedown needs ns-3 3.37, which was not found.\n"
    "On Debian 12 install the packages 'libns3-dev' and 'libgsl-dev' "
    "(or run scripts/install-deps.sh, which installs everything the build needs).")
endif()
add_library(shakedown_ns3 INTERFACE)
target_include_directories(shakedown_ns3 SYSTEM INTERFACE ${NS3_INCLUDE_DIR})
target_link_libraries(shakedown_ns3 INTERFACE ${NS3_LIBRARIES})
# MPI (distributed runs): Open MPI from Debian. The binary links it always and starts
# it only under mpirun or srun.
find_package(MPI COMPONENTS CXX QUIET)
if(NOT MPI_CXX_FOUND)
  message(FATAL_ERROR
    "shakedown needs MPI, which was not found.\n"
    "On Debian 12 install the packages 'libopenmpi-dev' and 'openmpi-bin' "
    "(or run scripts/install-deps.sh, which installs everything the build needs).")
endif()
find_program(SHAKEDOWN_MPIRUN NAMES mpirun mpiexec)
if(SHAKEDOWN_BUILD_TESTS)
  shakedown_require(GTest "googletest libgtest-dev libgmock-dev")
  include(GoogleTest)
  # Tests read captures back with tshark, as a user would open them in Wireshark.
  find_program(SHAKEDOWN_TSHARK tshark)
  if(NOT SHAKEDOWN_TSHARK)
    message(WARNING "tshark not found: the capture tests will be skipped. Install the Debian package 'tshark'.")
    set(SHAKEDOWN_TSHARK "")
  endif()
  find_program(SHAKEDOWN_XMLLINT xmllint)
  if(NOT SHAKEDOWN_XMLLINT)
    message(WARNING "xmllint not found: the JUnit schema test will be skipped. Install the Debian package 'libxml2-utils'.")
    set(SHAKEDOWN_XMLLINT "")
  endif()
endif()
if(SHAKEDOWN_BUILD_BENCH)
  shakedown_require(benchmark libbenchmark-dev)
endif()
