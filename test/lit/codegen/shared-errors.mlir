// RUN: tilus-opt %s -split-input-file -verify-diagnostics --tilus-convert-to-llvm -o /dev/null
// Shared-memory lowering needs the offsets that tilus-plan-shared-memory
// records and layouts on its tiles; packed shared tensors are not supported.

// A shared tensor without its offset.
func.func @tensor() attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  // expected-error @+2 {{'tilus.alloc_shared' op has no 'tilus.shared_offset'; run tilus-plan-shared-memory before lowering}}
  // expected-error @+1 {{failed to legalize operation 'tilus.alloc_shared'}}
  %s = tilus.alloc_shared : !tilus.shared<64xf32>
  return
}

// -----

// A tile without a layout.
func.func @no_layout() attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %s = tilus.alloc_shared {tilus.shared_offset = 0 : i64} : !tilus.shared<64xf32>
  // expected-error @+2 {{'tilus.load_shared' op needs a layout on its tile; run layout inference before lowering}}
  // expected-error @+1 {{failed to legalize operation 'tilus.load_shared'}}
  %x = tilus.load_shared %s[%c0] : !tilus.shared<64xf32>, i32 -> !tilus.tile<64xf32>
  return
}

// -----

// Elements narrower than a byte are packed in shared memory.
!tile = !tilus.tile<64x!tilus.u4, #tilus.layout<"spatial(32).local(2)">>
func.func @packed(%p: !llvm.ptr<1>) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<64x!tilus.u4>
  %c0 = arith.constant 0 : i32
  %s = tilus.alloc_shared {tilus.shared_offset = 0 : i64} : !tilus.shared<64x!tilus.u4>
  %x = tilus.load_global %g[%c0] : !tilus.global<64x!tilus.u4>, i32 -> !tile
  // expected-error @+2 {{'tilus.store_shared' op of '!tilus.u4' elements (narrower than a byte) is not supported yet}}
  // expected-error @+1 {{failed to legalize operation 'tilus.store_shared'}}
  tilus.store_shared %x, %s[%c0] : !tile, !tilus.shared<64x!tilus.u4>, i32
  return
}

// -----

func.func @packed_copy(%p: !llvm.ptr<1>) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<64x!tilus.u4>
  %c0 = arith.constant 0 : i32
  %s = tilus.alloc_shared {tilus.shared_offset = 0 : i64} : !tilus.shared<64x!tilus.u4>
  // expected-error @+2 {{'tilus.copy_async' op of '!tilus.u4' elements (narrower than a byte) is not supported yet}}
  // expected-error @+1 {{failed to legalize operation 'tilus.copy_async'}}
  "tilus.copy_async"(%g, %c0, %s) : (!tilus.global<64x!tilus.u4>, i32, !tilus.shared<64x!tilus.u4>) -> ()
  return
}
