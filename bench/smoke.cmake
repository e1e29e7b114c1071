# bench/run --smoke (bench/README.md): a tiny version of the kiln-against-buildah
# harness of issue 9 (about a minute), so CI sees that the benchmark still runs.
# Labels `slow` (the tier scripts/test runs) and `bench-smoke` (ctest -L
# bench-smoke runs it alone). It needs root, buildah, docker-registry and skopeo;
# without them it prints the reason and exits 77, which ctest reports as
# skipped. Included from the root CMakeLists.txt with the tests (the C++ benches
# in bench/ are off by default; this one is a script).
add_test(NAME bench_smoke COMMAND ${CMAKE_CURRENT_LIST_DIR}/run --smoke --kiln $<TARGET_FILE:kiln>)
set_tests_properties(bench_smoke PROPERTIES LABELS "slow;bench-smoke" SKIP_RETURN_CODE 77 TIMEOUT 600
                     RUN_SERIAL TRUE)
