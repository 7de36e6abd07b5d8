# `cmake --install`: the shakedown command, the libraries, their headers under
# include/shakedown, and a CMake package so that another project can write
#
#   find_package(shakedown REQUIRED)
#   target_link_libraries(my_tests PRIVATE shakedown::shakedown)
#
# (docs/library.md; examples/cpp-gtest is such a project, built in the tests).
include(CMakePackageConfigHelpers)

# One target for users: everything, through the controller.
add_library(shakedown_library INTERFACE)
target_link_libraries(shakedown_library INTERFACE shakedown_controller)
set_target_properties(shakedown_library PROPERTIES EXPORT_NAME shakedown)
add_library(shakedown::shakedown ALIAS shakedown_library)

set(shakedown_exported
  shakedown_units shakedown_emulator shakedown_wire shakedown_tcp shakedown_nodes shakedown_apps
  shakedown_topology_proto shakedown_topologies shakedown_controller shakedown_library shakedown_flags shakedown_metis shakedown_ns3)
foreach(t units emulator wire tcp nodes apps topology_proto topologies controller flags)
  set_target_properties(shakedown_${t} PROPERTIES EXPORT_NAME ${t})
endforeach()

install(TARGETS shakedown RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS ${shakedown_exported} EXPORT shakedownTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY emulator nodes topologies controller
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/shakedown
  FILES_MATCHING PATTERN "*.h" PATTERN "*.proto")
install(FILES ${PROJECT_BINARY_DIR}/topologies/topology.pb.h
  DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/shakedown/topologies)
install(EXPORT shakedownTargets NAMESPACE shakedown:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/shakedown)

configure_package_config_file(cmake/shakedownConfig.cmake.in ${PROJECT_BINARY_DIR}/shakedownConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/shakedown)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/shakedownConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/shakedownConfig.cmake ${PROJECT_BINARY_DIR}/shakedownConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/shakedown)
