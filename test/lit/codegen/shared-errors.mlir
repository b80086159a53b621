// RUN: tilus-opt %s -split-input-file -verify-diagnostics --tilus-convert-to-llvm -o /dev/null
// Lowering needs the offsets that tilus-plan-shared-memory records.

// A shared tensor without its offset.
func.func @tensor() attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  // expected-error @+2 {{'tilus.alloc_shared' op has no 'tilus.shared_offset'; run tilus-plan-shared-memory before lowering}}
  // expected-error @+1 {{failed to legalize operation 'tilus.alloc_shared'}}
  %s = tilus.alloc_shared : !tilus.shared<64xf32>
  return
}

// -----

// A move through shared memory without its scratch area.
!src = !tilus.tile<64xf32, #tilus.layout<"spatial(32).local(2)">>
!dst = !tilus.tile<32xf32, #tilus.layout<"spatial(32)">>
func.func @scratch(%p: !llvm.ptr<1>) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<64xf32>
  %c0 = arith.constant 0 : i32
  %x = tilus.load_global %g[%c0] : !tilus.global<64xf32>, i32 -> !src
  // expected-error @+2 {{'tilus.slice' op moves elements between threads and needs 'tilus.scratch_offset'; run tilus-plan-shared-memory before lowering}}
  // expected-error @+1 {{failed to legalize operation 'tilus.slice'}}
  %y = tilus.slice %x [16] : !src -> !dst
  tilus.store_global %y, %g[%c0] : !dst, !tilus.global<64xf32>, i32
  return
}
