# Installing kiln's C++ library: the static libraries, the public headers
# (include/kiln/kiln.h and the frontend/api headers it includes, with the
# headers those include, under PREFIX/include/kiln/ in the source tree's
# layout) and a pkg-config file, kiln.pc. The programs (kiln, kiln-sandbox)
# are installed by their own folders.
#
#   cmake --install build --prefix /opt/kiln
#   PKG_CONFIG_PATH=/opt/kiln/lib/pkgconfig pkg-config --cflags --libs kiln
include(GNUInstallDirs)

# Dependents before their dependencies, as a static link needs them.
set(KILN_INSTALLED_LIBRARIES
  kiln_frontend_api kiln_solver_ops kiln_solver_copy kiln_solver kiln_registry kiln_layers
  kiln_executor kiln_cache kiln_ignore kiln_oci kiln_util)
foreach(lib ${KILN_INSTALLED_LIBRARIES})
  if(NOT TARGET ${lib})
    return()  # a partial tree (a folder still missing) installs only the programs
  endif()
endforeach()
install(TARGETS ${KILN_INSTALLED_LIBRARIES} ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})

# The public headers and everything they include (g++ -MM over kiln.h lists it).
set(KILN_PUBLIC_HEADERS
  frontend/api/build.h frontend/api/build_cache.h frontend/api/build_state.h frontend/api/container.h
  frontend/api/host_binds.h frontend/api/namespace.h
  frontend/api/registry_api.h frontend/api/store_api.h
  oci/digest.h oci/image_config.h oci/json.h oci/media_types.h
  solver/definition.h
  util/redacted.h util/result.h)
install(FILES include/kiln/kiln.h DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/kiln)
foreach(h ${KILN_PUBLIC_HEADERS})
  get_filename_component(dir ${h} DIRECTORY)
  install(FILES ${h} DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/kiln/${dir})
endforeach()

# kiln.pc finds its prefix from its own location (pkgconf's ${pcfiledir}), so
# `cmake --install --prefix ANYWHERE` gives a working file.
file(RELATIVE_PATH KILN_PC_TO_PREFIX "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
list(TRANSFORM KILN_INSTALLED_LIBRARIES PREPEND "-l" OUTPUT_VARIABLE KILN_PC_LIBS)
string(JOIN " " KILN_PC_LIBS ${KILN_PC_LIBS})
configure_file(${PROJECT_SOURCE_DIR}/cmake/kiln.pc.in ${PROJECT_BINARY_DIR}/kiln.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/kiln.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
