// RUN: tilus-opt %s -split-input-file -verify-diagnostics --tilus-plan-shared-memory | FileCheck %s
// RUN: tilus-opt %s -split-input-file '--tilus-plan-shared-memory=arch=sm_90' | FileCheck %s --check-prefix=SM90
// RUN: not tilus-opt %s -split-input-file '--tilus-plan-shared-memory=arch=sm_70' 2>&1 | FileCheck %s --check-prefix=ARCH

// ARCH: error: unknown architecture 'sm_70'; expected one of sm_80, sm_86, sm_89, sm_90, sm_90a

// Tensors live at the same time get disjoint offsets, 16-byte aligned; the
// kernel records the total.
// CHECK-LABEL: func.func @overlapping
// CHECK-SAME: tilus.shared_bytes = 1296 : i64
// CHECK: tilus.alloc_shared {tilus.shared_offset = 0 : i64} : !tilus.shared<10xf32>
// CHECK: tilus.alloc_shared {tilus.shared_offset = 48 : i64} : !tilus.shared<16x16xf32>
// CHECK: tilus.alloc_shared {tilus.shared_offset = 1072 : i64} : !tilus.shared<7x16xf16>
func.func @overlapping() attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.alloc_shared : !tilus.shared<10xf32>
  %b = tilus.alloc_shared : !tilus.shared<16x16xf32>
  %c = tilus.alloc_shared : !tilus.shared<7x16xf16>
  return
}

// -----

// A freed tensor's bytes are reused by a later allocation.
// CHECK-LABEL: func.func @reuse
// CHECK-SAME: tilus.shared_bytes = 2048 : i64
// CHECK: tilus.alloc_shared {tilus.shared_offset = 0 : i64} : !tilus.shared<256xf32>
// CHECK: tilus.alloc_shared {tilus.shared_offset = 1024 : i64} : !tilus.shared<256xf32>
// CHECK: tilus.alloc_shared {tilus.shared_offset = 0 : i64} : !tilus.shared<128xf32>
func.func @reuse() attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.alloc_shared : !tilus.shared<256xf32>
  %b = tilus.alloc_shared : !tilus.shared<256xf32>
  tilus.free_shared %a : !tilus.shared<256xf32>
  %c = tilus.alloc_shared : !tilus.shared<128xf32>
  return
}

// -----

// A swizzled tensor starts at a boundary of its swizzle span, at least 128
// bytes (wgmma swizzles shared-memory addresses): 1024 bytes for
// Swizzle(3,3,3) on f16, 128 for Swizzle(1,3,2) on f16 (64 bytes); a
// strided layout takes its cosize (8 rows of 9 elements, the last row 8
// long).
// CHECK-LABEL: func.func @alignment
// CHECK-SAME: tilus.shared_bytes = 2048 : i64
// CHECK: tilus.alloc_shared {tilus.shared_offset = 0 : i64} : !tilus.shared<8x8xi16, #tilus.shared_layout<"shared(8,8).strides(9,1)">>
// CHECK: tilus.alloc_shared {tilus.shared_offset = 1024 : i64} : !tilus.shared<8x64xf16
func.func @alignment() attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.alloc_shared : !tilus.shared<8x8xi16, #tilus.shared_layout<"shared(8,8).strides(9,1)">>
  %b = tilus.alloc_shared : !tilus.shared<8x64xf16, #tilus.shared_layout<"shared(8,64).row_major().swizzle(3,3,3)">>
  return
}

// -----

// CHECK-LABEL: func.func @small_span
// CHECK-SAME: tilus.shared_bytes = 384 : i64
// CHECK: tilus.alloc_shared {tilus.shared_offset = 0 : i64} : !tilus.shared<8x8xi16, #tilus.shared_layout<"shared(8,8).strides(9,1)">>
// CHECK: tilus.alloc_shared {tilus.shared_offset = 256 : i64} : !tilus.shared<4x16xf16
func.func @small_span() attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.alloc_shared : !tilus.shared<8x8xi16, #tilus.shared_layout<"shared(8,8).strides(9,1)">>
  %b = tilus.alloc_shared : !tilus.shared<4x16xf16, #tilus.shared_layout<"shared(4,16).row_major().swizzle(1,3,2)">>
  return
}

// -----

// An allocation in a loop that it outlives (no free) lives for the whole
// loop, from its start: %b is placed first and neither %a, freed earlier in
// the body, nor %d after the loop share its bytes. Tensors allocated and
// freed within one iteration (%a, %c) share theirs.
// CHECK-LABEL: func.func @loops
// CHECK-SAME: tilus.shared_bytes = 384 : i64
// CHECK: tilus.alloc_shared {tilus.shared_offset = 128 : i64} : !tilus.shared<64xf32>
// CHECK: tilus.alloc_shared {tilus.shared_offset = 0 : i64} : !tilus.shared<32xf32>
// CHECK: tilus.alloc_shared {tilus.shared_offset = 128 : i64} : !tilus.shared<16xf32>
// CHECK: tilus.alloc_shared {tilus.shared_offset = 128 : i64} : !tilus.shared<8xf32>
func.func @loops(%n: index) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  scf.for %i = %c0 to %n step %c1 {
    %a = tilus.alloc_shared : !tilus.shared<64xf32>
    tilus.free_shared %a : !tilus.shared<64xf32>
    %b = tilus.alloc_shared : !tilus.shared<32xf32>
    %c = tilus.alloc_shared : !tilus.shared<16xf32>
    tilus.free_shared %c : !tilus.shared<16xf32>
  }
  %d = tilus.alloc_shared : !tilus.shared<8xf32>
  return
}

// -----

// A tensor allocated before a loop and used in it stays live through the
// whole loop, even though its last use comes early in the body.
// CHECK-LABEL: func.func @used_in_loop
// CHECK: tilus.alloc_shared {tilus.shared_offset = 0 : i64} : !tilus.shared<64xf32>
// CHECK: tilus.alloc_shared {tilus.shared_offset = 256 : i64} : !tilus.shared<16xf32>
// CHECK: tilus.alloc_shared {tilus.shared_offset = 0 : i64} : !tilus.shared<32xf32>
func.func @used_in_loop(%n: index) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %i0 = arith.constant 0 : i32
  %a = tilus.alloc_shared : !tilus.shared<64xf32>
  scf.for %i = %c0 to %n step %c1 {
    %t = tilus.load_shared %a[%i0] : !tilus.shared<64xf32>, i32 -> !tilus.tile<32xf32, #tilus.layout<"spatial(32)">>
    %b = tilus.alloc_shared : !tilus.shared<16xf32>
    tilus.free_shared %b : !tilus.shared<16xf32>
  }
  tilus.free_shared %a : !tilus.shared<64xf32>
  %c = tilus.alloc_shared : !tilus.shared<32xf32>
  return
}

// -----

// Scratch for a layout conversion between threads lies above the tensors
// live at it (here %a; %b was freed, and the scratch reuses its bytes). A
// conversion that stays in registers needs none.
// CHECK-LABEL: func.func @scratch
// CHECK-SAME: tilus.shared_bytes = 3072 : i64
// CHECK: tilus.alloc_shared {tilus.shared_offset = 0 : i64} : !tilus.shared<256xf32>
// CHECK: tilus.alloc_shared {tilus.shared_offset = 1024 : i64} : !tilus.shared<512xf32>
// CHECK: tilus.convert_layout %{{.*}} {tilus.scratch_offset = 1024 : i64}
// CHECK: tilus.convert_layout %{{.*}} :
// CHECK-NOT: scratch_offset
// CHECK: return
func.func @scratch(%x: !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">>, %y: !tilus.tile<2x64xf32, #tilus.layout<"local(2,2).spatial(1,32)">>) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.alloc_shared : !tilus.shared<256xf32>
  %b = tilus.alloc_shared : !tilus.shared<512xf32>
  tilus.free_shared %b : !tilus.shared<512xf32>
  %c = tilus.convert_layout %x : !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">> -> !tilus.tile<64xf32, #tilus.layout<"spatial(32).local(2)">>
  %d = tilus.convert_layout %y : !tilus.tile<2x64xf32, #tilus.layout<"local(2,2).spatial(1,32)">> -> !tilus.tile<2x64xf32, #tilus.layout<"column_local(2,2).spatial(1,32)">>
  tilus.free_shared %a : !tilus.shared<256xf32>
  return
}

// -----

// A reduction whose dimension spans several warps borrows result elements
// x warps x element bytes; one within a warp borrows nothing.
// CHECK-LABEL: func.func @reduce
// CHECK-SAME: tilus.shared_bytes = 512 : i64
// CHECK: tilus.reduce sum %{{.*}} {dim = 0 : i64, keepdim = true, tilus.scratch_offset = 0 : i64}
// CHECK: tilus.reduce sum %{{.*}} {dim = 1 : i64, keepdim = true} :
func.func @reduce(%x: !tilus.tile<4x32xf32, #tilus.layout<"spatial(4,32)">>) attributes {tilus.kernel, tilus.num_warps = 4 : i32, tilus.grid = ["1", "1", "1"]} {
  %r = tilus.reduce sum %x {dim = 0 : i64, keepdim = true} : !tilus.tile<4x32xf32, #tilus.layout<"spatial(4,32)">> -> !tilus.tile<1x32xf32, #tilus.layout<"replicate(4).spatial(1,32)">>
  %s = tilus.reduce sum %x {dim = 1 : i64, keepdim = true} : !tilus.tile<4x32xf32, #tilus.layout<"spatial(4,32)">> -> !tilus.tile<4x1xf32, #tilus.layout<"spatial(4,1).replicate(32)">>
  return
}

// -----

// More than the target's shared memory is an error naming both sizes.
// SM90-LABEL: func.func @too_big
// SM90-SAME: tilus.shared_bytes = 200000 : i64
// expected-error @+1 {{kernel 'too_big' needs 200000 bytes of shared memory but sm_80 allows at most 166912 bytes per block}}
func.func @too_big() attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.alloc_shared : !tilus.shared<50000xf32>
  return
}

// -----

// Scratch rows of a multiple of 128 bytes are padded by 4 bytes against
// bank conflicts: 31 x 132 + 128 bytes for a 32 x 32 f32 tile.
// CHECK-LABEL: func.func @padded_scratch
// CHECK-SAME: tilus.shared_bytes = 4220 : i64
// CHECK: tilus.convert_layout %{{.*}} {tilus.scratch_offset = 0 : i64}
func.func @padded_scratch(%x: !tilus.tile<32x32xf32, #tilus.layout<"local(8,1).spatial(4,32)">>) attributes {tilus.kernel, tilus.num_warps = 4 : i32, tilus.grid = ["1", "1", "1"]} {
  %y = tilus.convert_layout %x : !tilus.tile<32x32xf32, #tilus.layout<"local(8,1).spatial(4,32)">> -> !tilus.tile<32x32xf32, #tilus.layout<"local(1,8).column_spatial(32,4)">>
  return
}

// -----

// Tensors passed on under other names (here swapped as loop arguments) stay
// live to the end of the kernel: the frees of the original values do not
// end them, and %c gets bytes of its own.
// CHECK-LABEL: func.func @escapes
// CHECK-SAME: tilus.shared_bytes = 576 : i64
// CHECK: tilus.alloc_shared {tilus.shared_offset = 0 : i64}
// CHECK: tilus.alloc_shared {tilus.shared_offset = 256 : i64}
// CHECK: tilus.alloc_shared {tilus.shared_offset = 512 : i64} : !tilus.shared<16xf32>
func.func @escapes(%n: index) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %a = tilus.alloc_shared : !tilus.shared<64xf32>
  %b = tilus.alloc_shared : !tilus.shared<64xf32>
  %r:2 = scf.for %i = %c0 to %n step %c1 iter_args(%x = %a, %y = %b) -> (!tilus.shared<64xf32>, !tilus.shared<64xf32>) {
    scf.yield %y, %x : !tilus.shared<64xf32>, !tilus.shared<64xf32>
  }
  tilus.free_shared %a : !tilus.shared<64xf32>
  tilus.free_shared %b : !tilus.shared<64xf32>
  %c = tilus.alloc_shared : !tilus.shared<16xf32>
  return
}

// -----

// Thread groups run at the same time: a tensor one group frees does not
// lend its bytes to another group's (%b gets neither %a's nor %d's), nor to
// a group's tensor while a tensor outside the groups is live during them
// (%d does not take %c's: the second group's warps may still be reading %c
// before they enter their group); within one group, program order still
// lets bytes be reused (%d takes %a's).
// CHECK-LABEL: func.func @groups
// CHECK-SAME: tilus.shared_bytes = 3072 : i64
// CHECK: tilus.alloc_shared {tilus.shared_offset = 0 : i64} : !tilus.shared<256xf32>
// CHECK: tilus.thread_group
// CHECK-NEXT: tilus.alloc_shared {tilus.shared_offset = 1024 : i64} : !tilus.shared<256xf32>
// CHECK: tilus.alloc_shared {tilus.shared_offset = 1024 : i64} : !tilus.shared<256xf32>
// CHECK: tilus.thread_group
// CHECK-NEXT: tilus.alloc_shared {tilus.shared_offset = 2048 : i64} : !tilus.shared<256xf32>
func.func @groups() attributes {tilus.kernel, tilus.num_warps = 2 : i32, tilus.grid = ["1", "1", "1"]} {
  %c = tilus.alloc_shared : !tilus.shared<256xf32>
  tilus.thread_group warps(0, 1) {
    %a = tilus.alloc_shared : !tilus.shared<256xf32>
    tilus.free_shared %a : !tilus.shared<256xf32>
    tilus.free_shared %c : !tilus.shared<256xf32>
    %d = tilus.alloc_shared : !tilus.shared<256xf32>
    tilus.free_shared %d : !tilus.shared<256xf32>
  }
  tilus.thread_group warps(1, 1) {
    %b = tilus.alloc_shared : !tilus.shared<256xf32>
    tilus.free_shared %b : !tilus.shared<256xf32>
  }
  return
}
