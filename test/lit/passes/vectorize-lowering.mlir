// RUN: tilus-opt %s -split-input-file --tilus-convert-to-llvm | FileCheck %s
// A transfer with `tilus.vector = N` moves each run of N registers with one
// aligned LLVM vector access under one bound check; without it, one element
// at a time.

// CHECK-LABEL: llvm.func @runs_of_four
// CHECK-COUNT-1: llvm.icmp "ult"
// CHECK: llvm.load {{.*}} {alignment = 16 : i64} : !llvm.ptr<1> -> vector<4xf32>
// CHECK-COUNT-1: llvm.icmp "ult"
// CHECK: llvm.store {{.*}} {alignment = 16 : i64} : vector<4xf32>, !llvm.ptr<1>
// CHECK-NOT: llvm.load
// CHECK-NOT: llvm.store
!t = !tilus.tile<128xf32, #tilus.layout<"spatial(32).local(4)">>
func.func @runs_of_four(%p: !llvm.ptr<1>, %n: i32)
    attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.global_view %p[%n] : !llvm.ptr<1>, i32 -> !tilus.global<?xf32>
  %c0 = arith.constant 0 : i32
  %x = tilus.load_global %a[%c0] {tilus.vector = 4 : i64} : !tilus.global<?xf32>, i32 -> !t
  tilus.store_global %x, %a[%c0] {tilus.vector = 4 : i64} : !t, !tilus.global<?xf32>, i32
  return
}

// -----

// bool is one byte in memory: runs load as bytes and compare with zero, and
// store as codes 0 and 1.
// CHECK-LABEL: llvm.func @bool_runs
// CHECK: llvm.load {{.*}} {alignment = 4 : i64} : !llvm.ptr<1> -> vector<4xi8>
// CHECK: llvm.icmp "ne" {{.*}} : vector<4xi8>
// CHECK: llvm.store {{.*}} {alignment = 4 : i64} : vector<4xi8>, !llvm.ptr<1>
!b = !tilus.tile<128xi1, #tilus.layout<"spatial(32).local(4)">>
func.func @bool_runs(%p: !llvm.ptr<1>)
    attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<128xi1>
  %c0 = arith.constant 0 : i32
  %x = tilus.load_global %a[%c0] {tilus.vector = 4 : i64} : !tilus.global<128xi1>, i32 -> !b
  tilus.store_global %x, %a[%c0] {tilus.vector = 4 : i64} : !b, !tilus.global<128xi1>, i32
  return
}

// -----

// Sub-byte elements ignore the width and keep their bit-exact accesses.
// CHECK-LABEL: llvm.func @sub_byte
// CHECK: llvm.load {{.*}} : !llvm.ptr<1> -> i8
// CHECK-NOT: vector<2xi8>, !llvm.ptr<1>
!u = !tilus.tile<64x!tilus.u4, #tilus.layout<"spatial(32).local(2)">>
func.func @sub_byte(%p: !llvm.ptr<1>)
    attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<64x!tilus.u4>
  %c0 = arith.constant 0 : i32
  %x = tilus.load_global %a[%c0] {tilus.vector = 2 : i64} : !tilus.global<64x!tilus.u4>, i32 -> !u
  return
}
