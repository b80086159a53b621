// RUN: tilus-opt %s | tilus-opt | FileCheck %s
// Layout attributes parse with the layout library, print in canonical form
// and round-trip.

// Trivial modes drop and adjacent modes merge: equal layouts print equal.
// CHECK-LABEL: func.func @canonical
// CHECK-SAME: !tilus.tile<128xf32, #tilus.layout<"local(2).spatial(64)">>
// CHECK-SAME: !tilus.tile<128xf32, #tilus.layout<"local(2).spatial(64)">>
func.func @canonical(
    %a: !tilus.tile<128xf32, #tilus.layout<"local(1).local(2).spatial(64)">>,
    %b: !tilus.tile<128xf32, #tilus.layout<"local(2).spatial(8).spatial(8)">>) {
  return
}

// The mma accumulator, replication and column-major primitives keep their
// meaning through printing.
// CHECK-LABEL: func.func @forms
// CHECK-SAME: #tilus.layout<"local(2,1).spatial(8,4).local(1,2)">
// CHECK-SAME: #tilus.layout<"replicate(2).spatial(16)">
// CHECK-SAME: #tilus.layout<"column_spatial(4,8)">
func.func @forms(
    %acc: !tilus.tile<16x8xf32, #tilus.layout<"local(2,1).spatial(8,4).local(1,2)">>,
    %rep: !tilus.tile<16xf32, #tilus.layout<"replicate(2).spatial(16)">>,
    %col: !tilus.tile<4x8xf32, #tilus.layout<"column_spatial(4,8)">>) {
  return
}

// CHECK-LABEL: func.func @shared
// CHECK-SAME: #tilus.shared_layout<"shared(8,64).row_major().swizzle(3,3,3)">
// CHECK-SAME: #tilus.shared_layout<"shared(64,8).column_major()">
func.func @shared() attributes {
    test.a = #tilus.shared_layout<"shared(8,64).row_major().swizzle(3,3,3)">,
    test.b = #tilus.shared_layout<"shared(64,8).column_major()">} {
  return
}
