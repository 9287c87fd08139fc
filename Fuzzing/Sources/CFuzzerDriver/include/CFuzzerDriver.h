#ifndef CFUZZERDRIVER_H
#define CFUZZERDRIVER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's entry for programs with their own `main` (compiler-rt's libclang_rt.fuzzer, linked by
/// `-sanitize=fuzzer`): runs the fuzzing loop (or the given inputs) with `callback` as the target.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
