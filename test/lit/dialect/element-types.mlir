// RUN: tilus-opt %s | tilus-opt | FileCheck %s
// Every data type of the dtype library has one spelling in the dialect, and
// tensors of each parse and print back to themselves.

// CHECK-LABEL: func.func @elements
func.func @elements(
    // CHECK-SAME: !tilus.global<?x!tilus.u1>
    %u1: !tilus.global<?x!tilus.u1>,
    // CHECK-SAME: !tilus.global<?x!tilus.u4>
    %u4: !tilus.global<?x!tilus.u4>,
    // CHECK-SAME: !tilus.global<?x!tilus.u8>
    %u8: !tilus.global<?x!tilus.u8>,
    // CHECK-SAME: !tilus.global<?x!tilus.u64>
    %u64: !tilus.global<?x!tilus.u64>,
    // CHECK-SAME: !tilus.global<?x!tilus.i1>
    %i1: !tilus.global<?x!tilus.i1>,
    // CHECK-SAME: !tilus.global<?x!tilus.i3>
    %i3: !tilus.global<?x!tilus.i3>,
    // CHECK-SAME: !tilus.global<?x!tilus.i7>
    %i7: !tilus.global<?x!tilus.i7>,
    // CHECK-SAME: !tilus.global<?xi8>
    %i8: !tilus.global<?xi8>,
    // CHECK-SAME: !tilus.global<?xi1>
    %bool: !tilus.global<?xi1>,
    // CHECK-SAME: !tilus.global<?x!tilus.f3e1m1>
    %f3: !tilus.global<?x!tilus.f3e1m1>,
    // CHECK-SAME: !tilus.global<?x!tilus.f4e2m1>
    %f4: !tilus.global<?x!tilus.f4e2m1>,
    // CHECK-SAME: !tilus.global<?x!tilus.f5e2m2>
    %f5: !tilus.global<?x!tilus.f5e2m2>,
    // CHECK-SAME: !tilus.global<?x!tilus.f6e3m2>
    %f6a: !tilus.global<?x!tilus.f6e3m2>,
    // CHECK-SAME: !tilus.global<?x!tilus.f6e2m3>
    %f6b: !tilus.global<?x!tilus.f6e2m3>,
    // CHECK-SAME: !tilus.global<?x!tilus.f7e3m3>
    %f7: !tilus.global<?x!tilus.f7e3m3>,
    // CHECK-SAME: !tilus.global<?x!tilus.f8e4m3>
    %f8a: !tilus.global<?x!tilus.f8e4m3>,
    // CHECK-SAME: !tilus.global<?x!tilus.f8e5m2>
    %f8b: !tilus.global<?x!tilus.f8e5m2>,
    // CHECK-SAME: !tilus.global<?xbf16>
    %bf16: !tilus.global<?xbf16>,
    // CHECK-SAME: !tilus.tile<64x!tilus.u4, #tilus.layout<"local(2).spatial(32)">>
    %tile: !tilus.tile<64x!tilus.u4, #tilus.layout<"local(2).spatial(32)">>) {
  return
}
