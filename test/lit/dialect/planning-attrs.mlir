// RUN: tilus-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// The attributes shared-memory planning records are accepted where they
// belong, and shared tensor types round-trip.
// CHECK-LABEL: func.func @planned
// CHECK-SAME: tilus.shared_bytes = 4352 : i64
// CHECK: tilus.alloc_shared {tilus.shared_offset = 128 : i64} : !tilus.shared<8x64xf16, #tilus.shared_layout<"shared(8,64).row_major().swizzle(3,3,3)">>
// CHECK: tilus.convert_layout %{{.*}} {tilus.scratch_offset = 4096 : i64}
func.func @planned(%x: !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">>) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"], tilus.shared_bytes = 4352 : i64} {
  %s = tilus.alloc_shared {tilus.shared_offset = 128 : i64} : !tilus.shared<8x64xf16, #tilus.shared_layout<"shared(8,64).row_major().swizzle(3,3,3)">>
  %c = tilus.convert_layout %x {tilus.scratch_offset = 4096 : i64} : !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">> -> !tilus.tile<64xf32, #tilus.layout<"spatial(32).local(2)">>
  return
}

// -----

// An offset is a byte count: non-negative.
func.func @negative() {
  // expected-error @+1 {{'tilus.shared_offset' expects a non-negative i64 byte count}}
  %s = tilus.alloc_shared {tilus.shared_offset = -16 : i64} : !tilus.shared<64xf32>
  return
}

// -----

// Byte counts are i64.
func.func @narrow() {
  // expected-error @+1 {{'tilus.shared_offset' expects a non-negative i64 byte count}}
  %s = tilus.alloc_shared {tilus.shared_offset = 16 : i32} : !tilus.shared<64xf32>
  return
}

// -----

// Only shared allocations have a shared offset.
func.func @misplaced_offset() {
  // expected-error @+1 {{'tilus.shared_offset' expects to be on a tilus.alloc_shared}}
  tilus.sync {tilus.shared_offset = 0 : i64}
  return
}

// -----

// Only functions have a shared-memory total.
func.func @misplaced_total() {
  // expected-error @+1 {{'tilus.shared_bytes' expects to be on a function}}
  tilus.sync {tilus.shared_bytes = 0 : i64}
  return
}

// -----

// expected-error @+1 {{'tilus.shared_bytes' expects a non-negative i64 byte count}}
func.func @bad_total() attributes {tilus.shared_bytes = "many"} {
  return
}

// -----

func.func @bad_scratch(%x: !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">>) {
  // expected-error @+1 {{'tilus.scratch_offset' expects a non-negative i64 byte count}}
  %c = tilus.convert_layout %x {tilus.scratch_offset = -1 : i64} : !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">> -> !tilus.tile<64xf32, #tilus.layout<"spatial(32).local(2)">>
  return
}
