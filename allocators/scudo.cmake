# LLVM's standalone scudo ships only inside LLVM's own tree, not on the linker's search path.
file(GLOB bench_scudo_directories /usr/lib/llvm-*/lib/clang/*/lib/linux)
bench_find_allocator(NAME scudo SONAME libclang_rt.scudo_standalone-x86_64.so PACKAGE libclang-rt-14-dev
                     PATHS ${bench_scudo_directories})
