// RUN: tilus-opt %s -split-input-file -verify-diagnostics --tilus-convert-to-llvm -o /dev/null
// Layout movement lowers only after layout inference, and through shared
// memory only after tilus-plan-shared-memory gave it a scratch area.

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

// -----

// Tiles without a layout.
func.func @no_layout() attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  // expected-error @+2 {{'tilus.arange' op needs a layout on its tile; run layout inference before lowering}}
  // expected-error @+1 {{failed to legalize operation 'tilus.arange'}}
  %x = tilus.arange 0 : !tilus.tile<64xi32>
  return
}

// -----

func.func @no_source_layout(%c: i32) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %x = tilus.full %c : i32 -> !tilus.tile<64xi32>
  // expected-error @+2 {{'tilus.convert_layout' op needs layouts on its tiles; run layout inference before lowering}}
  // expected-error @+1 {{failed to legalize operation 'tilus.convert_layout'}}
  %y = tilus.convert_layout %x : !tilus.tile<64xi32> -> !tilus.tile<64xi32, #tilus.layout<"spatial(32).local(2)">>
  return
}

// -----

// A function passes scalars and pointers only; a tile argument, used or not,
// with a layout or without, is refused by name (it used to fail as "failed to
// legalize operation 'func.func'" or as an unresolved materialization).
// expected-error @+1 {{argument #0 of '@tile_argument' has type '!tilus.tile<32xf32>', which a function cannot pass; a function takes and returns scalars and pointers only (a kernel builds its tensors in its body)}}
func.func @tile_argument(%t: !tilus.tile<32xf32>) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  return
}

// -----

!t = !tilus.tile<32xf32, #tilus.layout<"spatial(32)">>
// expected-error @+1 {{argument #1 of '@laid_out_argument' has type '!tilus.tile<32xf32, #tilus.layout<"spatial(32)">>', which a function cannot pass}}
func.func @laid_out_argument(%x: f32, %t: !t) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.unary exp %t : !t
  return
}

// -----

!t = !tilus.tile<32xf32, #tilus.layout<"spatial(32)">>
// expected-error @+1 {{result #0 of '@tile_result' has type '!tilus.tile<32xf32, #tilus.layout<"spatial(32)">>', which a function cannot pass}}
func.func @tile_result(%x: f32) -> !t {
  %a = tilus.full %x : f32 -> !t
  return %a : !t
}
