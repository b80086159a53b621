// RUN: tilus-opt %s -split-input-file -verify-diagnostics
// One case per verifier message of the VM instructions, the shared tensor type
// and the tilus.unroll attribute.

// Shared tensors have rank >= 1.
// expected-error @+1 {{shared tensor expects rank >= 1}}
func.func @shared_rank0(%s: !tilus.shared<f16>) {
  return
}

// -----

// Shared tensors hold tilus data types.
// expected-error @+1 {{shared tensor expects a tilus data type, got 'index'}}
func.func @shared_element(%s: !tilus.shared<4xindex>) {
  return
}

// -----

// A shared layout has the tensor's shape.
// expected-error @+1 {{shared layout shape [8, 64] does not match tensor shape [4, 64]}}
func.func @shared_layout_shape(%s: !tilus.shared<4x64xf16, #tilus.shared_layout<"shared(8,64).row_major()">>) {
  return
}

// -----

// tilus.unroll takes a positive factor.
func.func @unroll_zero(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{'tilus.unroll' expects a positive integer on an scf.for}}
  scf.for %i = %c0 to %n step %c1 {
  } {tilus.unroll = 0 : i64}
  return
}

// -----

// min is arithmetic: no bool.
func.func @min_bool(%b: !tilus.tile<32xi1>) {
  // expected-error @+1 {{'tilus.min' op expects numbers, got bool}}
  %r = tilus.min %b, %b : !tilus.tile<32xi1>
  return
}

// -----

// and is bitwise: integers or bool, no floats.
func.func @and_float(%f: !tilus.tile<32xf32>) {
  // expected-error @+1 {{'tilus.and' op expects integers or bool, got 'f32'}}
  %r = tilus.and %f, %f : !tilus.tile<32xf32>
  return
}

// -----

// arange's dimension is one of the tile's.
func.func @arange_dim() {
  // expected-error @+1 {{'tilus.arange' op dimension 2 is out of range for a rank-2 tile}}
  %a = tilus.arange 2 : !tilus.tile<4x64xi32>
  return
}

// -----

// arange makes i32 indices.
func.func @arange_type() {
  // expected-error @+1 {{'tilus.arange' op expects an i32 tile, got 'i64'}}
  %a = tilus.arange 0 : !tilus.tile<64xi64>
  return
}

// -----

// broadcast keeps the element type and the rank.
func.func @broadcast_rank(%t: !tilus.tile<16xf32>) {
  // expected-error @+1 {{'tilus.broadcast' op expects the same element type and rank}}
  %b = tilus.broadcast %t : !tilus.tile<16xf32> -> !tilus.tile<16x64xf32>
  return
}

// -----

// Only extent-1 dimensions grow.
func.func @broadcast_extent(%t: !tilus.tile<16x2xf32>) {
  // expected-error @+1 {{'tilus.broadcast' op cannot broadcast shape [16, 2] to [16, 64]}}
  %b = tilus.broadcast %t : !tilus.tile<16x2xf32> -> !tilus.tile<16x64xf32>
  return
}

// -----

// convert_layout changes the layout and nothing else.
func.func @convert_element(%t: !tilus.tile<64xf32>) {
  // expected-error @+1 {{'tilus.convert_layout' op changes only the layout; shape and element type must match}}
  %c = tilus.convert_layout %t : !tilus.tile<64xf32> -> !tilus.tile<64xf16, #tilus.layout<"spatial(32).local(2)">>
  return
}

// -----

// cast keeps the shape.
func.func @cast_shape(%t: !tilus.tile<64xf32>) {
  // expected-error @+1 {{'tilus.cast' op result shape [32] does not match operand shape [64]}}
  %c = tilus.cast %t : !tilus.tile<64xf32> -> !tilus.tile<32xf16>
  return
}

// -----

// cmp (like cast) keeps the layout.
func.func @cmp_layout(%x: !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">>) {
  // expected-error @+1 {{'tilus.cmp' op result layout must equal the operand layout}}
  %m = tilus.cmp lt %x, %x : !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">> -> !tilus.tile<64xi1, #tilus.layout<"spatial(32).local(2)">>
  return
}

// -----

// Without layouts, a view keeps the total number of bits.
func.func @view_bits(%t: !tilus.tile<32xi8>) {
  // expected-error @+1 {{'tilus.view' op source and result hold different numbers of bits}}
  %v = tilus.view %t : !tilus.tile<32xi8> -> !tilus.tile<32xi16>
  return
}

// -----

// With layouts, a view keeps the thread count.
func.func @view_threads(%t: !tilus.tile<32xi8, #tilus.layout<"spatial(32)">>) {
  // expected-error @+1 {{'tilus.view' op source and result layouts span different thread counts (32 and 16)}}
  %v = tilus.view %t : !tilus.tile<32xi8, #tilus.layout<"spatial(32)">> -> !tilus.tile<32xi8, #tilus.layout<"spatial(16).local(2)">>
  return
}

// -----

// With layouts, a view keeps each thread's number of bits.
func.func @view_thread_bits(%t: !tilus.tile<32xi8, #tilus.layout<"spatial(32)">>) {
  // expected-error @+1 {{'tilus.view' op each thread holds 8 bits of the source but 16 bits of the result}}
  %v = tilus.view %t : !tilus.tile<32xi8, #tilus.layout<"spatial(32)">> -> !tilus.tile<64x!tilus.u8, #tilus.layout<"spatial(32).local(2)">>
  return
}

// -----

// slice takes one offset per dimension and keeps the rank.
func.func @slice_offsets(%t: !tilus.tile<16x32xf32>) {
  // expected-error @+1 {{'tilus.slice' op expects 2 offsets and a result of the same rank}}
  %s = tilus.slice %t [0] : !tilus.tile<16x32xf32> -> !tilus.tile<16x16xf32>
  return
}

// -----

// slice keeps the element type.
func.func @slice_element(%t: !tilus.tile<16x32xf32>) {
  // expected-error @+1 {{'tilus.slice' op expects the same element type}}
  %s = tilus.slice %t [0, 0] : !tilus.tile<16x32xf32> -> !tilus.tile<16x16xf16>
  return
}

// -----

// A slice lies inside the source tile.
func.func @slice_bounds(%t: !tilus.tile<16x32xf32>) {
  // expected-error @+1 {{'tilus.slice' op slice at [0, 24] of shape [16, 16] is outside the tile of shape [16, 32]}}
  %s = tilus.slice %t [0, 24] : !tilus.tile<16x32xf32> -> !tilus.tile<16x16xf32>
  return
}

// -----

// transpose permutes every dimension.
func.func @transpose_rank(%t: !tilus.tile<16x32xf32>) {
  // expected-error @+1 {{'tilus.transpose' op expects a permutation of 2 dimensions}}
  %p = tilus.transpose %t [1, 0, 2] : !tilus.tile<16x32xf32> -> !tilus.tile<32x16xf32>
  return
}

// -----

// Each dimension appears once in the permutation.
func.func @transpose_repeat(%t: !tilus.tile<16x32xf32>) {
  // expected-error @+1 {{'tilus.transpose' op permutation [0, 0] is not a permutation}}
  %p = tilus.transpose %t [0, 0] : !tilus.tile<16x32xf32> -> !tilus.tile<16x16xf32>
  return
}

// -----

// The result shape is the permuted source shape.
func.func @transpose_shape(%t: !tilus.tile<16x32xf32>) {
  // expected-error @+1 {{'tilus.transpose' op result shape [16, 32] is not the permuted source shape}}
  %p = tilus.transpose %t [1, 0] : !tilus.tile<16x32xf32> -> !tilus.tile<16x32xf32>
  return
}

// -----

// transpose keeps the element type.
func.func @transpose_element(%t: !tilus.tile<16x32xf32>) {
  // expected-error @+1 {{'tilus.transpose' op expects the same element type}}
  %p = tilus.transpose %t [1, 0] : !tilus.tile<16x32xf32> -> !tilus.tile<32x16xf16>
  return
}

// -----

// neg and abs take numbers, not bool.
func.func @neg_bool(%b: !tilus.tile<32xi1>) {
  // expected-error @+1 {{'tilus.unary' op 'neg' expects numbers, got bool}}
  %r = tilus.unary neg %b : !tilus.tile<32xi1>
  return
}

// -----

// not takes integers or bool.
func.func @not_float(%f: !tilus.tile<32xf32>) {
  // expected-error @+1 {{'tilus.unary' op 'not' expects integers or bool, got 'f32'}}
  %r = tilus.unary not %f : !tilus.tile<32xf32>
  return
}

// -----

// The transcendental and rounding functions take floats.
func.func @exp_int(%i: !tilus.tile<32xi32>) {
  // expected-error @+1 {{'tilus.unary' op 'exp' expects floats, got 'i32'}}
  %r = tilus.unary exp %i : !tilus.tile<32xi32>
  return
}

// -----

// cmp's operands have one type; the type constraint rejects a mismatch
// before the verifier's own message ("operands must have the same type").
func.func @cmp_operands(%x: !tilus.tile<32xf32>, %y: !tilus.tile<32xf16>) {
  // expected-error @+1 {{'tilus.cmp' op failed to verify that all of {lhs, rhs} have same type}}
  %m = "tilus.cmp"(%x, %y) {predicate = 2 : i32} : (!tilus.tile<32xf32>, !tilus.tile<32xf16>) -> !tilus.tile<32xi1>
  return
}

// -----

// cmp gives bool.
func.func @cmp_result(%x: !tilus.tile<32xf32>) {
  // expected-error @+1 {{'tilus.cmp' op result must be a tile of i1, got 'f32'}}
  %m = tilus.cmp lt %x, %x : !tilus.tile<32xf32> -> !tilus.tile<32xf32>
  return
}

// -----

// where's two values have the result type; the type constraint rejects a
// mismatch before the verifier's own message ("both values must have the
// result type").
func.func @where_values(%c: !tilus.tile<32xi1>, %x: !tilus.tile<32xf32>, %y: !tilus.tile<32xf16>) {
  // expected-error @+1 {{'tilus.where' op failed to verify that all of {trueValue, falseValue, result} have same type}}
  %r = "tilus.where"(%c, %x, %y) : (!tilus.tile<32xi1>, !tilus.tile<32xf32>, !tilus.tile<32xf16>) -> !tilus.tile<32xf32>
  return
}

// -----

// The condition is bool.
func.func @where_condition(%c: !tilus.tile<32xi32>, %x: !tilus.tile<32xf32>) {
  // expected-error @+1 {{'tilus.where' op condition must be a tile of i1, got 'i32'}}
  %r = tilus.where %c, %x, %x : !tilus.tile<32xi32>, !tilus.tile<32xf32>
  return
}

// -----

// The condition has the result's shape and layout.
func.func @where_layout(%c: !tilus.tile<64xi1, #tilus.layout<"spatial(32).local(2)">>, %x: !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">>) {
  // expected-error @+1 {{'tilus.where' op condition must have the result's shape and layout}}
  %r = tilus.where %c, %x, %x : !tilus.tile<64xi1, #tilus.layout<"spatial(32).local(2)">>, !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">>
  return
}

// -----

// A scalar operand is a float (f16, bf16, f32).
func.func @unary_int_scalar(%i: i32) {
  // expected-error @+1 {{'tilus.unary' op operand #0 must be register tile or f16, bf16, f32 scalar, but got 'i32'}}
  %r = tilus.unary rsqrt %i : i32
  return
}

// -----

// reduce's dimension is one of the source's.
func.func @reduce_dim(%x: !tilus.tile<16x64xf32>) {
  // expected-error @+1 {{'tilus.reduce' op dimension 2 is out of range for a rank-2 tile}}
  %s = tilus.reduce sum %x {dim = 2 : i64, keepdim = true} : !tilus.tile<16x64xf32> -> !tilus.tile<16x1xf32>
  return
}

// -----

// With keepdim the reduced dimension stays with extent 1.
func.func @reduce_shape(%x: !tilus.tile<16x64xf32>) {
  // expected-error @+1 {{'tilus.reduce' op result shape [16] should be [16, 1]}}
  %s = tilus.reduce sum %x {dim = 1 : i64, keepdim = true} : !tilus.tile<16x64xf32> -> !tilus.tile<16xf32>
  return
}

// -----

// reduce keeps the element type.
func.func @reduce_element(%x: !tilus.tile<16x64xf32>) {
  // expected-error @+1 {{'tilus.reduce' op expects the same element type}}
  %s = tilus.reduce max %x {dim = 1 : i64, keepdim = false} : !tilus.tile<16x64xf32> -> !tilus.tile<16xf16>
  return
}

// -----

// argmax and argmin give i32 indices.
func.func @argmax_element(%x: !tilus.tile<16x64xf32>) {
  // expected-error @+1 {{'tilus.reduce' op 'argmax' gives i32 indices, got a result of 'f32'}}
  %s = tilus.reduce argmax %x {dim = 1 : i64, keepdim = false} : !tilus.tile<16x64xf32> -> !tilus.tile<16xf32>
  return
}

// -----

// Bool tiles have no sum, max or min.
func.func @reduce_bool(%x: !tilus.tile<16x64xi1>) {
  // expected-error @+1 {{'tilus.reduce' op cannot reduce bool tiles}}
  %s = tilus.reduce max %x {dim = 1 : i64, keepdim = false} : !tilus.tile<16x64xi1> -> !tilus.tile<16xi1>
  return
}

// -----

// dot multiplies matrices.
func.func @dot_rank(%a: !tilus.tile<16xf16>, %b: !tilus.tile<16x32xf16>, %c: !tilus.tile<16x32xf32>) {
  // expected-error @+1 {{'tilus.dot' op expects rank-2 tiles}}
  %d = tilus.dot %a, %b, %c : !tilus.tile<16xf16>, !tilus.tile<16x32xf16>, !tilus.tile<16x32xf32>
  return
}

// -----

// The inner extents of a and b agree, and c is M x N.
func.func @dot_shapes(%a: !tilus.tile<16x8xf16>, %b: !tilus.tile<16x32xf16>, %c: !tilus.tile<16x32xf32>) {
  // expected-error @+1 {{'tilus.dot' op shapes [16, 8] x [16, 32] + [16, 32] do not form (M x K) @ (K x N) + (M x N)}}
  %d = tilus.dot %a, %b, %c : !tilus.tile<16x8xf16>, !tilus.tile<16x32xf16>, !tilus.tile<16x32xf32>
  return
}

// -----

// a and b have one element type.
func.func @dot_element(%a: !tilus.tile<16x8xf16>, %b: !tilus.tile<8x32xbf16>, %c: !tilus.tile<16x32xf32>) {
  // expected-error @+1 {{'tilus.dot' op a and b must have one element type}}
  %d = tilus.dot %a, %b, %c : !tilus.tile<16x8xf16>, !tilus.tile<8x32xbf16>, !tilus.tile<16x32xf32>
  return
}

// -----

// The result has c's type; the type constraint rejects a mismatch before the
// verifier's own message ("result type must equal the type of c").
func.func @dot_result(%a: !tilus.tile<16x8xf16>, %b: !tilus.tile<8x32xf16>, %c: !tilus.tile<16x32xf32>) {
  // expected-error @+1 {{'tilus.dot' op failed to verify that all of {c, result} have same type}}
  %d = "tilus.dot"(%a, %b, %c) : (!tilus.tile<16x8xf16>, !tilus.tile<8x32xf16>, !tilus.tile<16x32xf32>) -> !tilus.tile<16x32xf16>
  return
}

// -----

// A shared load takes one offset per dimension of the shared tensor.
func.func @load_shared_offsets(%i: i32) {
  %s = tilus.alloc_shared : !tilus.shared<64x64xf16>
  // expected-error @+1 {{'tilus.load_shared' op expects 2 offsets and a tile of rank 2}}
  %t = tilus.load_shared %s[%i] : !tilus.shared<64x64xf16>, i32 -> !tilus.tile<64x16xf16>
  return
}

// -----

// A shared store keeps the element type.
func.func @store_shared_element(%i: i32, %t: !tilus.tile<64x16xf32>) {
  %s = tilus.alloc_shared : !tilus.shared<64x64xf16>
  // expected-error @+1 {{'tilus.store_shared' op tile element type 'f32' does not match shared element type 'f16'}}
  tilus.store_shared %t, %s[%i, %i] : !tilus.tile<64x16xf32>, !tilus.shared<64x64xf16>, i32, i32
  return
}

// -----

// The tile fits in the shared tensor.
func.func @load_shared_extent(%i: i32) {
  %s = tilus.alloc_shared : !tilus.shared<64x64xf16>
  // expected-error @+1 {{'tilus.load_shared' op tile shape [128, 16] exceeds shared shape [64, 64]}}
  %t = tilus.load_shared %s[%i, %i] : !tilus.shared<64x64xf16>, i32, i32 -> !tilus.tile<128x16xf16>
  return
}

// -----

// copy_async takes one offset per dimension and a shared tensor of the same
// rank (generic form, which parses whatever the custom syntax).
func.func @copy_async_rank(%p: !llvm.ptr<1>, %m: i32) {
  %a = tilus.global_view %p[%m] : !llvm.ptr<1>, i32 -> !tilus.global<?x64xf16>
  %s = tilus.alloc_shared : !tilus.shared<64xf16>
  // expected-error @+1 {{'tilus.copy_async' op expects 2 offsets and a shared tensor of rank 2}}
  "tilus.copy_async"(%a, %m, %m, %s) : (!tilus.global<?x64xf16>, i32, i32, !tilus.shared<64xf16>) -> ()
  return
}

// -----

// copy_async keeps the element type.
func.func @copy_async_element(%p: !llvm.ptr<1>, %m: i32) {
  %a = tilus.global_view %p[%m] : !llvm.ptr<1>, i32 -> !tilus.global<?x64xf32>
  %s = tilus.alloc_shared : !tilus.shared<64x64xf16>
  // expected-error @+1 {{'tilus.copy_async' op element types of the global ('f32') and shared ('f16') tensors differ}}
  "tilus.copy_async"(%a, %m, %m, %s) : (!tilus.global<?x64xf32>, i32, i32, !tilus.shared<64x64xf16>) -> ()
  return
}

// -----

// copy_tma writes a box TMA can write: row-major, with TMA's swizzles.
func.func @copy_tma_layout(%p: !llvm.ptr<1>, %m: i32) {
  %a = tilus.global_view %p[%m] : !llvm.ptr<1>, i32 -> !tilus.global<?x64xf16>
  %bar = tilus.alloc_barrier 1 : !tilus.barrier
  %s = tilus.alloc_shared : !tilus.shared<64x64xf16, #tilus.shared_layout<"shared(64,64).column_major()">>
  // expected-error @+1 {{'tilus.copy_tma' op cannot write shared tensor '!tilus.shared<64x64xf16, #tilus.shared_layout<"shared(64,64).column_major()">>': TMA writes a row-major box, unswizzled or with swizzle(S, 3, 3) for S = 1, 2, 3 (its 32, 64 and 128-byte swizzles)}}
  "tilus.copy_tma"(%a, %m, %m, %s, %bar) : (!tilus.global<?x64xf16>, i32, i32, !tilus.shared<64x64xf16, #tilus.shared_layout<"shared(64,64).column_major()">>, !tilus.barrier) -> ()
  return
}

// -----

// copy_tma reads a kernel parameter whose rows start 16-byte aligned.
func.func @copy_tma_stride(%p: !llvm.ptr<1>, %m: i32, %k: i32) {
  %a = tilus.global_view %p[%m, %k] : !llvm.ptr<1>, i32, i32 -> !tilus.global<?x?xf16>
  %bar = tilus.alloc_barrier 1 : !tilus.barrier
  %s = tilus.alloc_shared : !tilus.shared<64x64xf16>
  // expected-error @+1 {{'tilus.copy_tma' op needs the rows of the global tensor to start 16-byte aligned (a TMA rule): its innermost extent must be a multiple of 8 elements of f16}}
  "tilus.copy_tma"(%a, %m, %m, %s, %bar) : (!tilus.global<?x?xf16>, i32, i32, !tilus.shared<64x64xf16>, !tilus.barrier) -> ()
  return
}

// -----

// copy_tma moves elements of 8 to 64 bits.
func.func @copy_tma_bits(%p: !llvm.ptr<1>, %m: i32) {
  %a = tilus.global_view %p[%m] : !llvm.ptr<1>, i32 -> !tilus.global<?x64x!tilus.u4>
  %bar = tilus.alloc_barrier 1 : !tilus.barrier
  %s = tilus.alloc_shared : !tilus.shared<64x64x!tilus.u4>
  // expected-error @+1 {{'tilus.copy_tma' op cannot write shared tensor '!tilus.shared<64x64x!tilus.u4>': TMA copies elements of 8, 16, 32 or 64 bits}}
  "tilus.copy_tma"(%a, %m, %m, %s, %bar) : (!tilus.global<?x64x!tilus.u4>, i32, i32, !tilus.shared<64x64x!tilus.u4>, !tilus.barrier) -> ()
  return
}

// -----

// copy_tma keeps the rank.
func.func @copy_tma_rank(%p: !llvm.ptr<1>, %m: i32) {
  %a = tilus.global_view %p[%m] : !llvm.ptr<1>, i32 -> !tilus.global<?x64xf16>
  %bar = tilus.alloc_barrier 1 : !tilus.barrier
  %s = tilus.alloc_shared : !tilus.shared<64xf16>
  // expected-error @+1 {{'tilus.copy_tma' op expects 2 offsets and a shared tensor of rank 2}}
  "tilus.copy_tma"(%a, %m, %m, %s, %bar) : (!tilus.global<?x64xf16>, i32, i32, !tilus.shared<64xf16>, !tilus.barrier) -> ()
  return
}

// -----

// alloc_barrier expects 1 to 2^20 - 1 arrivals.
func.func @alloc_barrier_count() {
  // expected-error @+1 {{'tilus.alloc_barrier' op attribute 'count' failed to satisfy constraint: 64-bit signless integer attribute whose minimum value is 1 whose maximum value is 1048575}}
  %bar = tilus.alloc_barrier 0 : !tilus.barrier
  return
}

// -----

// copy_async_wait leaves 0..7 groups in flight.
func.func @copy_async_wait_pending() {
  // expected-error @+1 {{'tilus.copy_async_wait' op attribute 'pending' failed to satisfy constraint: 64-bit signless integer attribute whose minimum value is 0 whose maximum value is 7}}
  tilus.copy_async_wait 8
  return
}

// -----

// print takes tiles and scalars of tilus data types.
func.func @print_index(%x: index) {
  // expected-error @+1 {{'tilus.print' op prints tiles and scalars, got 'index'}}
  tilus.print "x" %x : index
  return
}

// -----

// Extents are positive.
// expected-error @+1 {{extents must be positive}}
func.func @zero_extent(%a: !tilus.tile<0xf32>) {
  return
}

// -----

// Slice offsets near the int64 limit do not wrap around the bounds check.
func.func @slice_overflow(%t: !tilus.tile<16x32xf32>) {
  // expected-error @+1 {{'tilus.slice' op slice at [0, 9223372036854775807] of shape [16, 16] is outside the tile of shape [16, 32]}}
  %s = tilus.slice %t [0, 9223372036854775807] : !tilus.tile<16x32xf32> -> !tilus.tile<16x16xf32>
  return
}

// -----

// An unroll factor must fit an int64.
func.func @unroll_wide(%n: i32) {
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  // expected-error @+1 {{'tilus.unroll' expects a positive integer on an scf.for}}
  scf.for %i = %c0 to %n step %c1 : i32 {
  } {tilus.unroll = 18446744073709551617 : i128}
  return
}

// -----

// atomic_add counts in i32 tensors only.
func.func @atomic_add_type(%g: !tilus.global<?xf32>, %i: i32) {
  // expected-error @+1 {{'tilus.atomic_add' op adds to i32 tensors, got a tensor of 'f32'}}
  %old = tilus.atomic_add %g[%i], %i : !tilus.global<?xf32>
  return
}

// -----

// One index per dimension of the tensor.
func.func @atomic_add_rank(%g: !tilus.global<?x?xi32>, %i: i32) {
  // expected-error @+1 {{'tilus.atomic_add' op expects 2 indices for a rank-2 tensor, got 1}}
  %old = tilus.atomic_add %g[%i], %i : !tilus.global<?x?xi32>
  return
}

// -----

// An instruction runs on a kernel's threads: directly in the module it has no
// function to be emitted into (it used to reach LLVM IR translation and crash).
// expected-error @+1 {{'tilus.sync' op must be inside a function}}
tilus.sync
func.func @kernel() attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  return
}

// -----

// The rule holds for every instruction, with or without operands.
// expected-error @+1 {{'tilus.copy_async_wait' op must be inside a function}}
tilus.copy_async_wait 0

// -----

// reshape keeps the number of elements.
func.func @reshape_count(%t: !tilus.tile<4x8xf32>) {
  // expected-error @+1 {{'tilus.reshape' op cannot reshape [4, 8] (32 elements) to [4, 9] (36 elements)}}
  %r = tilus.reshape %t : !tilus.tile<4x8xf32> -> !tilus.tile<4x9xf32>
  return
}

// -----

// reshape keeps the element type.
func.func @reshape_type(%t: !tilus.tile<4x8xf32>) {
  // expected-error @+1 {{'tilus.reshape' op expects the same element type}}
  %r = tilus.reshape %t : !tilus.tile<4x8xf32> -> !tilus.tile<32xi32>
  return
}

// -----

// item takes a tile of exactly one element.
func.func @item_count(%t: !tilus.tile<2x1xf32>) {
  // expected-error @+1 {{'tilus.item' op needs a tile of one element, got shape [2, 1]}}
  %s = tilus.item %t : !tilus.tile<2x1xf32> -> f32
  return
}

// -----

// item gives the element type.
func.func @item_type(%t: !tilus.tile<1xf32>) {
  // expected-error @+1 {{'tilus.item' op result type 'f16' is not the element type 'f32'}}
  %s = tilus.item %t : !tilus.tile<1xf32> -> f16
  return
}

// -----

// A thread group is a statement of the kernel's body.
func.func @group_nested() attributes {tilus.kernel, tilus.num_warps = 4 : i32, tilus.grid = ["1", "1", "1"]} {
  tilus.thread_group warps(0, 2) {
    // expected-error @+1 {{'tilus.thread_group' op must be a statement of a kernel's body, not inside a loop, a branch or another group}}
    tilus.thread_group warps(0, 1) {
    }
  }
  return
}

// -----

// A thread group lies inside the block's warps.
func.func @group_outside() attributes {tilus.kernel, tilus.num_warps = 4 : i32, tilus.grid = ["1", "1", "1"]} {
  // expected-error @+1 {{'tilus.thread_group' op warps 2 .. 5 lie outside the block's 4 warps}}
  tilus.thread_group warps(2, 4) {
  }
  return
}

// -----

// A tile in a thread group spans the group's threads.
func.func @group_threads(%x: f32) attributes {tilus.kernel, tilus.num_warps = 4 : i32, tilus.grid = ["1", "1", "1"]} {
  tilus.thread_group warps(0, 1) {
    // expected-error @+1 {{'tilus.full' op layout spans 128 threads but its thread group has 32}}
    %t = tilus.full %x : f32 -> !tilus.tile<128xf32, #tilus.layout<"spatial(128)">>
  }
  return
}
