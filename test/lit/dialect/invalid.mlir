// RUN: tilus-opt %s -split-input-file -verify-diagnostics
// One case per verifier message of the tilus dialect.

// A global_view gets one extent per dynamic dimension.
func.func @view_extents(%p: !llvm.ptr<1>, %n: i32) {
  // expected-error @+1 {{'tilus.global_view' op expects 2 dynamic extents, got 1}}
  %a = tilus.global_view %p[%n] : !llvm.ptr<1>, i32 -> !tilus.global<?x?xf32>
  return
}

// -----

// Global tensors have rank >= 1.
// expected-error @+1 {{global tensor expects rank >= 1}}
func.func @rank0(%a: !tilus.global<f32>) {
  return
}

// -----

// Element types are integers or floats.
// expected-error @+1 {{global tensor expects a tilus data type, got 'index'}}
func.func @bad_element(%a: !tilus.global<4xindex>) {
  return
}

// -----

// expected-error @+1 {{tile expects rank >= 1}}
func.func @tile_rank0(%a: !tilus.tile<f32, #tilus.layout<"local(1)">>) {
  return
}

// -----

// expected-error @+1 {{tile expects a tilus data type, got 'index'}}
func.func @tile_element(%a: !tilus.tile<4xindex, #tilus.layout<"local(4)">>) {
  return
}

// -----

// The layout's shape is the tile's shape.
// expected-error @+1 {{layout shape [8] does not match tile shape [4]}}
func.func @tile_shape(%a: !tilus.tile<4xf32, #tilus.layout<"local(2).spatial(4)">>) {
  return
}

// -----

// Layout expressions are checked when parsed, with the column of the error.
// expected-error @+1 {{invalid layout "blocked(4)" at column 1: unknown layout primitive 'blocked'}}
func.func @bad_layout(%a: !tilus.tile<4xf32, #tilus.layout<"blocked(4)">>) {
  return
}

// -----

// expected-error @+1 {{invalid layout "local(4" at column 8: expected ')' to close the argument list, got end of input}}
func.func @unclosed_layout(%a: !tilus.tile<4xf32, #tilus.layout<"local(4">>) {
  return
}

// -----

// Operands of different rank align by prepending unit dimensions.
// expected-error @+1 {{layout shape [2, 4] does not match tile shape [4]}}
func.func @rank_mismatch(%a: !tilus.tile<4xf32, #tilus.layout<"local(2).spatial(2,2)">>) {
  return
}

// -----

// Shared layouts are checked the same way.
// expected-error @+1 {{invalid layout "shared(8,64).swizzle(3,3)" at column}}
func.func @bad_shared() attributes {test.smem = #tilus.shared_layout<"shared(8,64).swizzle(3,3)">} {
  return
}

// -----

// A shared layout gives every element its own offset.
func.func @overlapping_shared() {
  // expected-error @+1 {{shared layout shared(8,8).strides(7,1) places indices [0, 7] and [1, 0] at the same offset 7; every element needs its own address}}
  %s = tilus.alloc_shared : !tilus.shared<8x8xf32, #tilus.shared_layout<"shared(8,8).strides(7,1)">>
  return
}

// -----

// Tiles span exactly the kernel's threads.
func.func @threads(%x: f32) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  // expected-error @+1 {{'tilus.full' op layout spans 64 threads but the kernel has 32}}
  %t = tilus.full %x : f32 -> !tilus.tile<64xf32, #tilus.layout<"spatial(64)">>
  return
}

// -----

func.func @full_type(%x: f16) {
  // expected-error @+1 {{'tilus.full' op value type 'f16' does not match tile element type 'f32'}}
  %t = tilus.full %x : f16 -> !tilus.tile<32xf32, #tilus.layout<"spatial(32)">>
  return
}

// -----

func.func @offsets(%p: !llvm.ptr<1>, %i: i32) {
  %a = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<8x8xf32>
  // expected-error @+1 {{'tilus.load_global' op expects 2 offsets for a rank-2 tensor, got 1}}
  %t = tilus.load_global %a[%i] : !tilus.global<8x8xf32>, i32 -> !tilus.tile<8x8xf32, #tilus.layout<"local(1,2).spatial(8,4)">>
  return
}

// -----

func.func @tile_rank(%p: !llvm.ptr<1>, %i: i32) {
  %a = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<64xf32>
  // expected-error @+1 {{'tilus.load_global' op tile rank 2 does not match tensor rank 1}}
  %t = tilus.load_global %a[%i] : !tilus.global<64xf32>, i32 -> !tilus.tile<8x8xf32, #tilus.layout<"local(1,2).spatial(8,4)">>
  return
}

// -----

func.func @element(%p: !llvm.ptr<1>, %i: i32, %t: !tilus.tile<64xf16, #tilus.layout<"local(2).spatial(32)">>) {
  %a = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<64xf32>
  // expected-error @+1 {{'tilus.store_global' op tile element type 'f16' does not match tensor element type 'f32'}}
  tilus.store_global %t, %a[%i] : !tilus.tile<64xf16, #tilus.layout<"local(2).spatial(32)">>, !tilus.global<64xf32>, i32
  return
}

// -----

// The kernel attribute is for functions.
// expected-error @+1 {{'tilus.kernel' expects to be on a func.func}}
module attributes {tilus.kernel} {
}

// -----

// expected-error @+1 {{kernel expects an integer 'tilus.num_warps' attribute}}
func.func @no_warps() attributes {tilus.kernel} {
  return
}

// -----

// expected-error @+1 {{'tilus.num_warps' expects an integer in [1, 32], got 33 : i32}}
func.func @many_warps() attributes {tilus.num_warps = 33 : i32} {
  return
}

// -----

// expected-error @+1 {{'tilus.grid' expects an array of three expression strings}}
func.func @grid() attributes {tilus.grid = ["1"]} {
  return
}

// -----

// expected-error @+1 {{unknown tilus attribute 'tilus.bogus'}}
func.func @bogus() attributes {tilus.bogus} {
  return
}

// -----

// expected-error @+1 {{'tilus.divisibility' of argument 0 expects a positive integer}}
func.func @divisibility(%n: i32 {tilus.divisibility = 0 : i64}) {
  return
}

// -----

// expected-error @+1 {{unknown tilus argument attribute 'tilus.other'}}
func.func @arg_attr(%n: i32 {tilus.other = 1 : i64}) {
  return
}

// -----

// block_idx names a grid dimension 0..2.
func.func @block_dim() {
  // expected-error @+1 {{'tilus.block_idx' op attribute 'dim' failed to satisfy constraint: 32-bit signless integer attribute whose minimum value is 0 whose maximum value is 2}}
  %b = tilus.block_idx 3 : i32
  return
}

// -----

// Element types are the dtype library's names.
// expected-error @+1 {{unknown tilus type 'u9'}}
func.func @bad_dtype(%a: !tilus.global<?x!tilus.u9>) {
  return
}

// -----

// Types with a builtin spelling use it.
// expected-error @+1 {{'f16' has a builtin MLIR type; use that instead}}
func.func @builtin_dtype(%a: !tilus.global<?x!tilus.f16>) {
  return
}
