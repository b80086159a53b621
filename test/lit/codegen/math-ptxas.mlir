// REQUIRES: ptxas
// RUN: tilusc %S/math-special-functions.mlir --arch=sm_80 -o %t.special.ptx
// RUN: %ptxas -arch=sm_80 %t.special.ptx -o %t.special.cubin
// RUN: tilusc %S/cast-packed.mlir --arch=sm_80 -o %t.packed.ptx
// RUN: %ptxas -arch=sm_80 %t.packed.ptx -o %t.packed.cubin
// RUN: tilusc %S/cast-packed.mlir --arch=sm_90a -o %t.packed90.ptx
// RUN: %ptxas -arch=sm_90a %t.packed90.ptx -o %t.packed90.cubin
// RUN: tilusc %S/../e2e/Inputs/print_kernel.mlir --arch=sm_80 -o %t.print.ptx
// RUN: %ptxas -arch=sm_80 %t.print.ptx -o %t.print.cubin
// ptxas accepts the special functions, packed sub-byte loads and atomic
// stores, and vprintf calls.
