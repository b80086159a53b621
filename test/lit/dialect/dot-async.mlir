// RUN: tilus-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// An async dot and the waits that pass its tile on (none, one, two tiles).
// CHECK-LABEL: func.func @roundtrip
// CHECK: %[[D:.*]] = tilus.dot async %{{.*}}, %{{.*}}, %{{.*}} {tilus.wgmma} : !tilus.tile<64x16xf16>, !tilus.tile<16x64xf16>, !tilus.tile<64x64xf32>
// CHECK: %[[W:.*]] = tilus.wait_dot 1, %[[D]] : !tilus.tile<64x64xf32> -> !tilus.tile<64x64xf32>
// CHECK: tilus.wait_dot 0, %[[W]], %{{.*}} : !tilus.tile<64x64xf32>, !tilus.tile<64x64xf16> -> !tilus.tile<64x64xf32>, !tilus.tile<64x64xf16>
// CHECK: tilus.wait_dot 0{{$}}
func.func @roundtrip(%a: !tilus.tile<64x16xf16>, %b: !tilus.tile<16x64xf16>, %c: !tilus.tile<64x64xf32>, %h: !tilus.tile<64x64xf16>) {
  %d = tilus.dot async %a, %b, %c {tilus.wgmma} : !tilus.tile<64x16xf16>, !tilus.tile<16x64xf16>, !tilus.tile<64x64xf32>
  %w = tilus.wait_dot 1, %d : !tilus.tile<64x64xf32> -> !tilus.tile<64x64xf32>
  %x:2 = tilus.wait_dot 0, %w, %h : !tilus.tile<64x64xf32>, !tilus.tile<64x64xf16> -> !tilus.tile<64x64xf32>, !tilus.tile<64x64xf16>
  tilus.wait_dot 0
  return
}

// -----

// Each result has its operand's type.
func.func @result_type(%c: !tilus.tile<64x64xf32>) {
  // expected-error @below {{'tilus.wait_dot' op expects one result of its operand's type per operand}}
  %w = tilus.wait_dot 1, %c : !tilus.tile<64x64xf32> -> !tilus.tile<64x64xf16>
  return
}

// -----

// At most 7 groups stay pending.
func.func @pending(%c: !tilus.tile<64x64xf32>) {
  // expected-error @below {{attribute 'pending' failed to satisfy constraint}}
  %w = tilus.wait_dot 8, %c : !tilus.tile<64x64xf32> -> !tilus.tile<64x64xf32>
  return
}
