# libtcmalloc_minimal: gperftools' allocator without the heap profiler and checker.
bench_find_allocator(NAME tcmalloc SONAME libtcmalloc_minimal.so.4 PACKAGE libgoogle-perftools-dev)
