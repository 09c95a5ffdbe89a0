# oneTBB's scalable allocator replaces malloc through a proxy library that forwards to the allocator.
bench_find_allocator(NAME tbbmalloc_proxy SONAME libtbbmalloc_proxy.so.2 PACKAGE libtbbmalloc2)
bench_find_allocator(NAME tbbmalloc SONAME libtbbmalloc.so.2 PACKAGE libtbbmalloc2)
