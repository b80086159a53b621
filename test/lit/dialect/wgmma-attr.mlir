// RUN: tilus-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// Layout inference marks a dot it plans as wgmma with a unit attribute.
// CHECK-LABEL: func.func @marked
// CHECK: tilus.dot {{.*}} {tilus.wgmma}
func.func @marked(%a: !tilus.tile<64x16xf16>, %b: !tilus.tile<16x64xf16>, %c: !tilus.tile<64x64xf32>) {
  %d = tilus.dot %a, %b, %c {tilus.wgmma} : !tilus.tile<64x16xf16>, !tilus.tile<16x64xf16>, !tilus.tile<64x64xf32>
  return
}

// -----

// Only a dot is marked.
func.func @wrong_op(%x: i32) {
  // expected-error @below {{'tilus.wgmma' expects to be a unit attribute on a tilus.dot}}
  %y = arith.addi %x, %x {tilus.wgmma} : i32
  return
}

// -----

// The mark carries no value.
func.func @not_unit(%a: !tilus.tile<64x16xf16>, %b: !tilus.tile<16x64xf16>, %c: !tilus.tile<64x64xf32>) {
  // expected-error @below {{'tilus.wgmma' expects to be a unit attribute on a tilus.dot}}
  %d = tilus.dot %a, %b, %c {tilus.wgmma = 1 : i64} : !tilus.tile<64x16xf16>, !tilus.tile<16x64xf16>, !tilus.tile<64x64xf32>
  return
}
