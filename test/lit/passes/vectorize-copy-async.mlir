// RUN: tilus-opt %s -split-input-file --tilus-vectorize=remarks=true -verify-diagnostics | FileCheck %s
// A copy_async gets the widest power-of-two run of at most 16 bytes that
// starts aligned and lies wholly inside or outside the tensor (alignment and
// mask; no contiguity rule: its shared layout cuts the chunks).

// The a-side copy of a k loop: offsets bx * 64 and k0 (step 32), row stride
// k with a %8 fact: 8 f16 (16 bytes).
// CHECK-LABEL: func.func @proven
// CHECK: tilus.copy_async {{.*}} {tilus.vector = 8 : i64}
func.func @proven(%p: !llvm.ptr<1>, %m: i32, %k: i32 {tilus.divisibility = 8 : i64})
    attributes {tilus.kernel, tilus.num_warps = 4 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.global_view %p[%m, %k] : !llvm.ptr<1>, i32, i32 -> !tilus.global<?x?xf16>
  %s = tilus.alloc_shared : !tilus.shared<64x32xf16>
  %bx = tilus.block_idx 0 : i32
  %c0 = arith.constant 0 : i32
  %c32 = arith.constant 32 : i32
  %c64 = arith.constant 64 : i32
  %row = arith.muli %bx, %c64 : i32
  scf.for %k0 = %c0 to %k step %c32 : i32 {
    // expected-remark @below {{copy_async: vector width 8 (16 bytes)}}
    tilus.copy_async %a[%row, %k0], %s : !tilus.global<?x?xf16>, !tilus.shared<64x32xf16>, i32, i32
  }
  return
}

// -----

// Without a fact on k a row may start anywhere: the copy keeps width 1 and
// so its run-time alignment test.
// CHECK-LABEL: func.func @unknown_stride
// CHECK: tilus.copy_async {{.*}} {tilus.vector = 1 : i64}
func.func @unknown_stride(%p: !llvm.ptr<1>, %m: i32, %k: i32)
    attributes {tilus.kernel, tilus.num_warps = 4 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.global_view %p[%m, %k] : !llvm.ptr<1>, i32, i32 -> !tilus.global<?x?xf16>
  %s = tilus.alloc_shared : !tilus.shared<64x32xf16>
  %c0 = arith.constant 0 : i32
  // expected-remark @below {{copy_async: vector width 1 (2 bytes); width 8 refused by alignment (row stride divisible by 1)}}
  tilus.copy_async %a[%c0, %c0], %s : !tilus.global<?x?xf16>, !tilus.shared<64x32xf16>, i32, i32
  return
}

// -----

// An innermost offset of 4 f16 aligns runs of 4 (8 bytes) only.
// CHECK-LABEL: func.func @offset
// CHECK: tilus.copy_async {{.*}} {tilus.vector = 4 : i64}
func.func @offset(%p: !llvm.ptr<1>, %m: i32, %k: i32 {tilus.divisibility = 64 : i64})
    attributes {tilus.kernel, tilus.num_warps = 4 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.global_view %p[%m, %k] : !llvm.ptr<1>, i32, i32 -> !tilus.global<?x?xf16>
  %s = tilus.alloc_shared : !tilus.shared<64x32xf16>
  %c0 = arith.constant 0 : i32
  %c4 = arith.constant 4 : i32
  // expected-remark @below {{copy_async: vector width 4 (8 bytes); width 8 refused by alignment (innermost offset divisible by 4)}}
  tilus.copy_async %a[%c0, %c4], %s : !tilus.global<?x?xf16>, !tilus.shared<64x32xf16>, i32, i32
  return
}

// -----

// A vector's runs are aligned by the offset alone, but an extent with no
// fact could cut one: the mask refuses.
// CHECK-LABEL: func.func @mask
// CHECK: tilus.copy_async {{.*}} {tilus.vector = 1 : i64}
func.func @mask(%p: !llvm.ptr<1>, %n: i32)
    attributes {tilus.kernel, tilus.num_warps = 4 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.global_view %p[%n] : !llvm.ptr<1>, i32 -> !tilus.global<?xf32>
  %s = tilus.alloc_shared : !tilus.shared<512xf32>
  %c0 = arith.constant 0 : i32
  // expected-remark @below {{copy_async: vector width 1 (4 bytes); width 4 refused by mask (innermost extent divisible by 1)}}
  tilus.copy_async %a[%c0], %s : !tilus.global<?xf32>, !tilus.shared<512xf32>, i32
  return
}
