// RUN: tilus-opt %s -split-input-file --tilus-infer-layouts -verify-diagnostics
// Each failure of layout inference names the instruction, the layouts
// involved and the constraint.

// A view that changes the element width cannot guess the result layout.
func.func @view_width(%x: f32) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.full %x : f32 -> !tilus.tile<32xf32, #tilus.layout<"spatial(32)">>
  // expected-error @+1 {{'tilus.view' op layout inference failed: a view that changes the element width or the shape needs an explicit result layout (source layout spatial(32))}}
  %v = tilus.view %a : !tilus.tile<32xf32, #tilus.layout<"spatial(32)">> -> !tilus.tile<64xf16>
  return
}

// -----

// No rule produces an argument, so a used tile argument needs its layout
// (this used to crash the pass).
// expected-error @+1 {{tile argument #1 of '@no_layout_argument' has no layout; layout inference gives layouts to instruction results only, so a tile argument must carry one}}
func.func @no_layout_argument(%x: f32, %t: !tilus.tile<32xf32>) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.unary exp %t : !tilus.tile<32xf32>
  return
}
