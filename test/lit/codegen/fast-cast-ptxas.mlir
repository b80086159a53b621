// REQUIRES: ptxas
// The packed casts' inline assembly is valid PTX for ptxas on the oldest and
// the newest target (bf16x2 uses fma, which sm_80 has).
// RUN: tilusc %S/fast-cast.mlir --arch=sm_80 -o %t.80.ptx
// RUN: %ptxas -arch=sm_80 %t.80.ptx -o %t.80.cubin
// RUN: tilusc %S/fast-cast.mlir --arch=sm_90a -o %t.90.ptx
// RUN: %ptxas -arch=sm_90a %t.90.ptx -o %t.90.cubin
