bench_find_allocator(NAME jemalloc SONAME libjemalloc.so.2 PACKAGE libjemalloc-dev)
