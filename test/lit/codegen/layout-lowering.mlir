// RUN: tilus-opt %s -split-input-file --tilus-plan-shared-memory --tilus-convert-to-llvm | FileCheck %s
// Layout movement: a permutation of each thread's registers when the
// threads already hold what they need, else a round trip through the
// scratch area between two barriers.

// Same elements per thread, other register order: a shuffle, no barrier.
// CHECK-LABEL: llvm.func @local_order
// CHECK-NOT: nvvm.barrier0
// CHECK: llvm.shufflevector %{{.*}}, %{{.*}} [0, 2, 1, 3] : vector<4xf32>
// CHECK-NOT: nvvm.barrier0
// CHECK: llvm.return
!src = !tilus.tile<2x64xf32, #tilus.layout<"local(2,2).spatial(1,32)">>
!dst = !tilus.tile<2x64xf32, #tilus.layout<"column_local(2,2).spatial(1,32)">>
func.func @local_order(%p: !llvm.ptr<1>) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<2x64xf32>
  %c0 = arith.constant 0 : i32
  %x = tilus.load_global %g[%c0, %c0] : !tilus.global<2x64xf32>, i32, i32 -> !src
  %y = tilus.convert_layout %x : !src -> !dst
  tilus.store_global %y, %g[%c0, %c0] : !dst, !tilus.global<2x64xf32>, i32, i32
  return
}

// -----

// Elements change threads: barrier, stores to the scratch area at its
// planned offset, barrier, loads.
// CHECK: llvm.mlir.global external @tilus_smem() {addr_space = 3 : i32, alignment = 128 : i64} : !llvm.array<0 x i8>
// CHECK-LABEL: llvm.func @threads
// CHECK: llvm.mlir.addressof @tilus_smem : !llvm.ptr<3>
// CHECK: nvvm.barrier0
// CHECK-COUNT-2: llvm.store %{{.*}}, %{{.*}} : f32, !llvm.ptr<3>
// CHECK: nvvm.barrier0
// CHECK-COUNT-2: llvm.load %{{.*}} : !llvm.ptr<3> -> f32
// CHECK: llvm.return
!src = !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">>
!dst = !tilus.tile<64xf32, #tilus.layout<"spatial(32).local(2)">>
func.func @threads(%p: !llvm.ptr<1>) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<64xf32>
  %c0 = arith.constant 0 : i32
  %x = tilus.load_global %g[%c0] : !tilus.global<64xf32>, i32 -> !src
  %y = tilus.convert_layout %x : !src -> !dst
  tilus.store_global %y, %g[%c0] : !dst, !tilus.global<64xf32>, i32
  return
}

// -----

// A broadcast whose source layout is the result's reduced over the
// broadcast dimension reads registers: each thread's one source element
// repeated.
// CHECK-LABEL: llvm.func @broadcast_registers
// CHECK-NOT: nvvm.barrier0
// CHECK: llvm.shufflevector %{{.*}}, %{{.*}} [0, 0, 0, 0] : vector<1xf32>
!src = !tilus.tile<32x1xf32, #tilus.layout<"spatial(32,1).replicate(2)">>
!dst = !tilus.tile<32x8xf32, #tilus.layout<"spatial(32,2).local(1,4)">>
func.func @broadcast_registers(%p: !llvm.ptr<1>, %q: !llvm.ptr<1>) attributes {tilus.kernel, tilus.num_warps = 2 : i32, tilus.grid = ["1", "1", "1"]} {
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<32x1xf32>
  %o = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<32x8xf32>
  %c0 = arith.constant 0 : i32
  %x = tilus.load_global %g[%c0, %c0] : !tilus.global<32x1xf32>, i32, i32 -> !src
  %y = tilus.broadcast %x : !src -> !dst
  tilus.store_global %y, %o[%c0, %c0] : !dst, !tilus.global<32x8xf32>, i32, i32
  return
}

// -----

// A replicated source is stored once per element: only the threads whose
// replica digit is 0 write the scratch area.
// CHECK-LABEL: llvm.func @replicated_source
// CHECK: nvvm.barrier0
// CHECK: llvm.icmp "eq"
// CHECK: llvm.cond_br
// CHECK: llvm.store %{{.*}}, %{{.*}} : f32, !llvm.ptr<3>
// CHECK: nvvm.barrier0
!src = !tilus.tile<32x1xf32, #tilus.layout<"spatial(32,1).replicate(2)">>
!dst = !tilus.tile<32x8xf32, #tilus.layout<"column_spatial(32,2).local(1,4)">>
func.func @replicated_source(%p: !llvm.ptr<1>, %q: !llvm.ptr<1>) attributes {tilus.kernel, tilus.num_warps = 2 : i32, tilus.grid = ["1", "1", "1"]} {
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<32x1xf32>
  %o = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<32x8xf32>
  %c0 = arith.constant 0 : i32
  %x = tilus.load_global %g[%c0, %c0] : !tilus.global<32x1xf32>, i32, i32 -> !src
  %y = tilus.broadcast %x : !src -> !dst
  tilus.store_global %y, %o[%c0, %c0] : !dst, !tilus.global<32x8xf32>, i32, i32
  return
}

// -----

// A transpose to the permuted layout only renames registers: no shuffle,
// no barrier.
// CHECK-LABEL: llvm.func @relabel
// CHECK-NOT: nvvm.barrier0
// CHECK-NOT: llvm.shufflevector
// CHECK: llvm.return
!src = !tilus.tile<8x32xf32, #tilus.layout<"local(8,1).spatial(1,32)">>
!dst = !tilus.tile<32x8xf32, #tilus.layout<"spatial(32,1).local(1,8)">>
func.func @relabel(%p: !llvm.ptr<1>, %q: !llvm.ptr<1>) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<8x32xf32>
  %o = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<32x8xf32>
  %c0 = arith.constant 0 : i32
  %x = tilus.load_global %g[%c0, %c0] : !tilus.global<8x32xf32>, i32, i32 -> !src
  %y = tilus.transpose %x [1, 0] : !src -> !dst
  tilus.store_global %y, %o[%c0, %c0] : !dst, !tilus.global<32x8xf32>, i32, i32
  return
}
