bench_find_allocator(NAME mimalloc SONAME libmimalloc.so.2 PACKAGE libmimalloc-dev)
