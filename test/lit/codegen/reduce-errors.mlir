// RUN: tilus-opt %s --tilus-convert-to-llvm -split-input-file -verify-diagnostics
// Reductions and dots whose layouts the lowering cannot implement are errors
// that name the rule.

// The result layout must be the source layout reduced over the dimension.
func.func @wrong_result_layout(%p: !llvm.ptr<1>)
    attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<4x8xf32>
  %x = tilus.load_global %g[%c0, %c0] : !tilus.global<4x8xf32>, i32, i32 -> !tilus.tile<4x8xf32, #tilus.layout<"spatial(4,8)">>
  // expected-error @below {{must be the source layout reduced over dimension 1}}
  // expected-error @below {{failed to legalize}}
  %r = tilus.reduce sum %x {dim = 1 : i64, keepdim = false} : !tilus.tile<4x8xf32, #tilus.layout<"spatial(4,8)">> -> !tilus.tile<4xf32, #tilus.layout<"layout(shape=[4], modes=[4], spatial=[-32], local=[0])">>
  return
}

// -----

// Across warps needs the scratch area that shared-memory planning assigns.
func.func @no_scratch(%p: !llvm.ptr<1>)
    attributes {tilus.kernel, tilus.num_warps = 2 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<64xf32>
  %x = tilus.load_global %g[%c0] : !tilus.global<64xf32>, i32 -> !tilus.tile<64xf32, #tilus.layout<"spatial(64)">>
  // expected-error @below {{reduces across warps and needs scratch shared memory, but has no 'tilus.scratch_offset'}}
  // expected-error @below {{failed to legalize}}
  %r = tilus.reduce max %x {dim = 0 : i64, keepdim = true} : !tilus.tile<64xf32, #tilus.layout<"spatial(64)">> -> !tilus.tile<1xf32, #tilus.layout<"layout(shape=[1], modes=[], spatial=[-64], local=[])">>
  return
}

// -----

// The SIMT dot needs each thread to hold the rows of a and columns of b of
// its accumulator elements.
func.func @dot_layouts(%p: !llvm.ptr<1>)
    attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<8x4xf32>
  %h = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<4x8xf32>
  %k = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<8x8xf32>
  %a = tilus.load_global %g[%c0, %c0] : !tilus.global<8x4xf32>, i32, i32 -> !tilus.tile<8x4xf32, #tilus.layout<"spatial(8,4)">>
  %b = tilus.load_global %h[%c0, %c0] : !tilus.global<4x8xf32>, i32, i32 -> !tilus.tile<4x8xf32, #tilus.layout<"spatial(4,8)">>
  %c = tilus.load_global %k[%c0, %c0] : !tilus.global<8x8xf32>, i32, i32 -> !tilus.tile<8x8xf32, #tilus.layout<"spatial(8,4).local(1,2)">>
  // expected-error @below {{SIMT dot needs every thread to hold row i of a and column j of b}}
  // expected-error @below {{failed to legalize}}
  %d = tilus.dot %a, %b, %c : !tilus.tile<8x4xf32, #tilus.layout<"spatial(8,4)">>, !tilus.tile<4x8xf32, #tilus.layout<"spatial(4,8)">>, !tilus.tile<8x8xf32, #tilus.layout<"spatial(8,4).local(1,2)">>
  return
}
