// RUN: tilus-opt %s -split-input-file --tilus-vectorize=remarks=true -verify-diagnostics | FileCheck %s
// Each global access gets the widest power-of-two width of at most 16 bytes
// that the layout's contiguity, the alignment and the mask constancy allow.

// Offset 1024 * bx and an extent with a %4 fact: 4 f32 (16 bytes).
// CHECK-LABEL: func.func @full_width
// CHECK: tilus.load_global {{.*}} {tilus.vector = 4 : i64}
// CHECK: tilus.store_global {{.*}} {tilus.vector = 4 : i64}
func.func @full_width(%p: !llvm.ptr<1>, %n: i32 {tilus.divisibility = 4 : i64})
    attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.global_view %p[%n] : !llvm.ptr<1>, i32 -> !tilus.global<?xf32>
  %bx = tilus.block_idx 0 : i32
  %c1024 = arith.constant 1024 : i32
  %off = arith.muli %bx, %c1024 : i32
  // expected-remark @below {{load_global: vector width 4 (16 bytes)}}
  %x = tilus.load_global %a[%off] : !tilus.global<?xf32>, i32 -> !tilus.tile<128xf32, #tilus.layout<"spatial(32).local(4)">>
  // expected-remark @below {{store_global: vector width 4 (16 bytes)}}
  tilus.store_global %x, %a[%off] : !tilus.tile<128xf32, #tilus.layout<"spatial(32).local(4)">>, !tilus.global<?xf32>, i32
  return
}

// -----

// The layout holds runs of 2 consecutive elements: contiguity refuses 8 f16.
// CHECK-LABEL: func.func @contiguity
// CHECK: tilus.load_global {{.*}} {tilus.vector = 2 : i64}
func.func @contiguity(%p: !llvm.ptr<1>)
    attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<256xf16>
  %c0 = arith.constant 0 : i32
  // expected-remark @below {{load_global: vector width 2 (4 bytes); width 8 refused by contiguity (the layout holds runs of 2 consecutive elements)}}
  %x = tilus.load_global %a[%c0] : !tilus.global<256xf16>, i32 -> !tilus.tile<256xf16, #tilus.layout<"local(4).spatial(32).local(2)">>
  return
}

// -----

// A loop index stepping by 2 from 0 aligns runs of 2 only.
// CHECK-LABEL: func.func @alignment
// CHECK: tilus.load_global {{.*}} {tilus.vector = 2 : i64}
func.func @alignment(%p: !llvm.ptr<1>)
    attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<1024xf32>
  %c0 = arith.constant 0 : i32
  %c2 = arith.constant 2 : i32
  %c512 = arith.constant 512 : i32
  scf.for %i = %c0 to %c512 step %c2 : i32 {
    // expected-remark @below {{load_global: vector width 2 (8 bytes); width 4 refused by alignment (innermost offset divisible by 2)}}
    %x = tilus.load_global %a[%i] : !tilus.global<1024xf32>, i32 -> !tilus.tile<128xf32, #tilus.layout<"spatial(32).local(4)">>
  }
  return
}

// -----

// Rows of a [m, n] tensor start at multiples of n: n %2 limits the alignment.
// CHECK-LABEL: func.func @row_stride
// CHECK: tilus.load_global {{.*}} {tilus.vector = 2 : i64}
func.func @row_stride(%p: !llvm.ptr<1>, %m: i32, %n: i32 {tilus.divisibility = 2 : i64})
    attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.global_view %p[%m, %n] : !llvm.ptr<1>, i32, i32 -> !tilus.global<?x?xf32>
  %c0 = arith.constant 0 : i32
  // expected-remark @below {{load_global: vector width 2 (8 bytes); width 4 refused by alignment (row stride divisible by 2)}}
  %x = tilus.load_global %a[%c0, %c0] : !tilus.global<?x?xf32>, i32, i32 -> !tilus.tile<4x32xf32, #tilus.layout<"spatial(4, 8).local(1, 4)">>
  return
}

// -----

// An extent with no divisibility fact: the bound check could differ inside a
// run, so the mask refuses any width above 1.
// CHECK-LABEL: func.func @mask
// CHECK: tilus.store_global {{.*}} {tilus.vector = 1 : i64}
func.func @mask(%p: !llvm.ptr<1>, %n: i32)
    attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.global_view %p[%n] : !llvm.ptr<1>, i32 -> !tilus.global<?xi8>
  %c0 = arith.constant 0 : i32
  %z = arith.constant 0 : i8
  %x = tilus.full %z : i8 -> !tilus.tile<512xi8, #tilus.layout<"spatial(32).local(16)">>
  // expected-remark @below {{store_global: vector width 1 (1 bytes); width 16 refused by mask (innermost extent divisible by 1)}}
  tilus.store_global %x, %a[%c0] : !tilus.tile<512xi8, #tilus.layout<"spatial(32).local(16)">>, !tilus.global<?xi8>, i32
  return
}

// -----

// Divisibility flows through arith: (bx * 64 + 8 * k) with k an i64 %2
// parameter truncated to i32 is a multiple of 16; the extent n * 4 of 4.
// CHECK-LABEL: func.func @arith_facts
// CHECK: tilus.load_global {{.*}} {tilus.vector = 4 : i64}
func.func @arith_facts(%p: !llvm.ptr<1>, %n: i32, %k: i64 {tilus.divisibility = 2 : i64})
    attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c4 = arith.constant 4 : i32
  %e = arith.muli %n, %c4 : i32
  %a = tilus.global_view %p[%e] : !llvm.ptr<1>, i32 -> !tilus.global<?xf32>
  %bx = tilus.block_idx 0 : i32
  %c64 = arith.constant 64 : i32
  %c8 = arith.constant 8 : i32
  %base = arith.muli %bx, %c64 : i32
  %k32 = arith.trunci %k : i64 to i32
  %step = arith.muli %k32, %c8 : i32
  %off = arith.addi %base, %step : i32
  // expected-remark @below {{load_global: vector width 4 (16 bytes)}}
  %x = tilus.load_global %a[%off] : !tilus.global<?xf32>, i32 -> !tilus.tile<128xf32, #tilus.layout<"spatial(32).local(4)">>
  return
}

// -----

// Elements narrower than a byte keep their bit-exact element accesses.
// CHECK-LABEL: func.func @sub_byte
// CHECK: tilus.load_global {{.*}} {tilus.vector = 1 : i64}
func.func @sub_byte(%p: !llvm.ptr<1>)
    attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<256x!tilus.u4>
  %c0 = arith.constant 0 : i32
  // expected-remark @below {{load_global: vector width 1; wider refused: elements narrower than a byte are moved one at a time}}
  %x = tilus.load_global %a[%c0] : !tilus.global<256x!tilus.u4>, i32 -> !tilus.tile<256x!tilus.u4, #tilus.layout<"spatial(32).local(8)">>
  return
}

// -----

// A store of elements narrower than a byte writes whole bytes (tilus.vector =
// the elements of one byte, 2 u4) when each thread holds byte-aligned runs of
// them; otherwise threads share bytes and it is atomic (width 1), with the
// rule that refused whole bytes.
// CHECK-LABEL: func.func @sub_byte_store
// CHECK: tilus.store_global {{.*}} {tilus.vector = 2 : i64}
// CHECK: tilus.store_global {{.*}} {tilus.vector = 1 : i64}
// CHECK: tilus.store_global {{.*}} {tilus.vector = 1 : i64}
// CHECK: tilus.store_global {{.*}} {tilus.vector = 8 : i64}
func.func @sub_byte_store(%p: !llvm.ptr<1>, %q: !llvm.ptr<1>, %n: i32, %k: i32)
    attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.global_view %p[%n] : !llvm.ptr<1>, i32 -> !tilus.global<?x!tilus.u4>
  %c0 = arith.constant 0 : i32
  %z = arith.constant 0 : i8
  %x = tilus.full %z : i8 -> !tilus.tile<64xi8, #tilus.layout<"spatial(32).local(2)">>
  %u = tilus.cast %x : !tilus.tile<64xi8, #tilus.layout<"spatial(32).local(2)">> -> !tilus.tile<64x!tilus.u4, #tilus.layout<"spatial(32).local(2)">>
  // expected-remark @below {{store_global: whole bytes (1 byte per access, plain byte stores)}}
  tilus.store_global %u, %a[%c0] : !tilus.tile<64x!tilus.u4, #tilus.layout<"spatial(32).local(2)">>, !tilus.global<?x!tilus.u4>, i32
  %y = tilus.full %z : i8 -> !tilus.tile<64xi8, #tilus.layout<"local(2).spatial(32)">>
  %v = tilus.cast %y : !tilus.tile<64xi8, #tilus.layout<"local(2).spatial(32)">> -> !tilus.tile<64x!tilus.u4, #tilus.layout<"local(2).spatial(32)">>
  // expected-remark @below {{store_global: atomic updates of shared bytes (32-bit and/or inside the tensor, 16-bit compare-and-swap at its end); whole bytes refused by contiguity (the layout holds runs of 1 consecutive elements, not of 2)}}
  tilus.store_global %v, %a[%c0] : !tilus.tile<64x!tilus.u4, #tilus.layout<"local(2).spatial(32)">>, !tilus.global<?x!tilus.u4>, i32
  // expected-remark @below {{store_global: atomic updates of shared bytes (32-bit and/or inside the tensor, 16-bit compare-and-swap at its end); whole bytes refused by alignment (innermost offset divisible by 1)}}
  tilus.store_global %u, %a[%k] : !tilus.tile<64x!tilus.u4, #tilus.layout<"spatial(32).local(2)">>, !tilus.global<?x!tilus.u4>, i32
  %b = tilus.global_view %q[%n] : !llvm.ptr<1>, i32 -> !tilus.global<?x!tilus.i3>
  %w = tilus.full %z : i8 -> !tilus.tile<256xi8, #tilus.layout<"spatial(32).local(8)">>
  %t = tilus.cast %w : !tilus.tile<256xi8, #tilus.layout<"spatial(32).local(8)">> -> !tilus.tile<256x!tilus.i3, #tilus.layout<"spatial(32).local(8)">>
  // expected-remark @below {{store_global: whole bytes (3 bytes per access, plain byte stores)}}
  tilus.store_global %t, %b[%c0] : !tilus.tile<256x!tilus.i3, #tilus.layout<"spatial(32).local(8)">>, !tilus.global<?x!tilus.i3>, i32
  return
}
