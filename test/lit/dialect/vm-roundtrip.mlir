// RUN: tilus-opt %s | tilus-opt | FileCheck %s
// RUN: not tilus-opt %s --tilus-infer-layouts 2>&1 | FileCheck %s --check-prefix=INFER
// RUN: not tilusc %s -o /dev/null 2>&1 | FileCheck %s --check-prefix=INFER
// The VM instructions and the shared tensor type print in a form that parses
// back to itself, with layouts and without.
// Compiled, the same functions are refused with a located error, not a crash:
// their tile arguments come from no instruction, so layout inference cannot
// give the layout-less ones a layout.
// INFER: vm-roundtrip.mlir:{{[0-9]+}}:{{[0-9]+}}: error: tile argument #0 of '@broadcast' has no layout

// CHECK-LABEL: func.func @arange
func.func @arange() attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  // An i32 tile of indices along dim 0, laid out over the kernel's 32 threads.
  // CHECK: tilus.arange 0 : !tilus.tile<32xi32, #tilus.layout<"spatial(32)">>
  %a = tilus.arange 0 : !tilus.tile<32xi32, #tilus.layout<"spatial(32)">>
  // Without a layout, any dimension of the tile may be indexed.
  // CHECK: tilus.arange 1 : !tilus.tile<4x64xi32>
  %b = tilus.arange 1 : !tilus.tile<4x64xi32>
  return
}

// CHECK-LABEL: func.func @broadcast
// CHECK-SAME: (%[[ROW:.*]]: !tilus.tile<16x1xf32>, %[[COL:.*]]: !tilus.tile<32x1xf32, #tilus.layout<"spatial(32,1)">>)
func.func @broadcast(%row: !tilus.tile<16x1xf32>, %col: !tilus.tile<32x1xf32, #tilus.layout<"spatial(32,1)">>) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  // Extent-1 dimensions grow to the result's extent.
  // CHECK: tilus.broadcast %[[ROW]] : !tilus.tile<16x1xf32> -> !tilus.tile<16x64xf32>
  %a = tilus.broadcast %row : !tilus.tile<16x1xf32> -> !tilus.tile<16x64xf32>
  // The result has its own layout, printed in canonical form.
  // CHECK: tilus.broadcast %[[COL]] : !tilus.tile<32x1xf32, #tilus.layout<"spatial(32,1)">> -> !tilus.tile<32x4xf32, #tilus.layout<"local(1,4).spatial(32,1)">>
  %b = tilus.broadcast %col : !tilus.tile<32x1xf32, #tilus.layout<"spatial(32,1)">> -> !tilus.tile<32x4xf32, #tilus.layout<"spatial(32,1).local(1,4)">>
  return
}

// CHECK-LABEL: func.func @convert_layout
// CHECK-SAME: (%[[T:.*]]: !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">>, %[[N:.*]]: !tilus.tile<64xf32>)
func.func @convert_layout(%t: !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">>, %n: !tilus.tile<64xf32>) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  // Only the layout changes.
  // CHECK: tilus.convert_layout %[[T]] : !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">> -> !tilus.tile<64xf32, #tilus.layout<"spatial(32).local(2)">>
  %c = tilus.convert_layout %t : !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">> -> !tilus.tile<64xf32, #tilus.layout<"spatial(32).local(2)">>
  // A layout-less tile may be given a layout.
  // CHECK: tilus.convert_layout %[[N]] : !tilus.tile<64xf32> -> !tilus.tile<64xf32, #tilus.layout<"spatial(32).local(2)">>
  %d = tilus.convert_layout %n : !tilus.tile<64xf32> -> !tilus.tile<64xf32, #tilus.layout<"spatial(32).local(2)">>
  return
}

// CHECK-LABEL: func.func @cast
// CHECK-SAME: (%[[W:.*]]: !tilus.tile<64x!tilus.u4>, %[[F:.*]]: !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">>)
func.func @cast(%w: !tilus.tile<64x!tilus.u4>, %f: !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">>) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  // The element type changes, shape and (absent) layout stay.
  // CHECK: tilus.cast %[[W]] : !tilus.tile<64x!tilus.u4> -> !tilus.tile<64xf16>
  %a = tilus.cast %w : !tilus.tile<64x!tilus.u4> -> !tilus.tile<64xf16>
  // With a layout, the result keeps it.
  // CHECK: tilus.cast %[[F]] : !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">> -> !tilus.tile<64x!tilus.f8e4m3, #tilus.layout<"local(2).spatial(32)">>
  %b = tilus.cast %f : !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">> -> !tilus.tile<64x!tilus.f8e4m3, #tilus.layout<"local(2).spatial(32)">>
  return
}

// CHECK-LABEL: func.func @view
// CHECK-SAME: (%[[B:.*]]: !tilus.tile<32xi8, #tilus.layout<"spatial(32)">>, %[[N:.*]]: !tilus.tile<32xi8>)
func.func @view(%bytes: !tilus.tile<32xi8, #tilus.layout<"spatial(32)">>, %nolayout: !tilus.tile<32xi8>) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  // Each thread's 8 bits become two u4 elements.
  // CHECK: tilus.view %[[B]] : !tilus.tile<32xi8, #tilus.layout<"spatial(32)">> -> !tilus.tile<64x!tilus.u4, #tilus.layout<"spatial(32).local(2)">>
  %a = tilus.view %bytes : !tilus.tile<32xi8, #tilus.layout<"spatial(32)">> -> !tilus.tile<64x!tilus.u4, #tilus.layout<"spatial(32).local(2)">>
  // Without layouts, only the total bit count must match.
  // CHECK: tilus.view %[[N]] : !tilus.tile<32xi8> -> !tilus.tile<8xi32>
  %b = tilus.view %nolayout : !tilus.tile<32xi8> -> !tilus.tile<8xi32>
  return
}

// CHECK-LABEL: func.func @slice_transpose
// CHECK-SAME: (%[[T:.*]]: !tilus.tile<16x32xf32>, %[[X:.*]]: !tilus.tile<2x3x4xi8>)
func.func @slice_transpose(%t: !tilus.tile<16x32xf32>, %x: !tilus.tile<2x3x4xi8>) {
  // A sub-tile at constant offsets that stays inside the source.
  // CHECK: tilus.slice %[[T]] [0, 16] : !tilus.tile<16x32xf32> -> !tilus.tile<16x16xf32>
  %s = tilus.slice %t [0, 16] : !tilus.tile<16x32xf32> -> !tilus.tile<16x16xf32>
  // Result dimension d is source dimension permutation[d].
  // CHECK: tilus.transpose %[[T]] [1, 0] : !tilus.tile<16x32xf32> -> !tilus.tile<32x16xf32>
  %p = tilus.transpose %t [1, 0] : !tilus.tile<16x32xf32> -> !tilus.tile<32x16xf32>
  // Rank 3 with a non-involutive permutation.
  // CHECK: tilus.transpose %[[X]] [2, 0, 1] : !tilus.tile<2x3x4xi8> -> !tilus.tile<4x2x3xi8>
  %y = tilus.transpose %x [2, 0, 1] : !tilus.tile<2x3x4xi8> -> !tilus.tile<4x2x3xi8>
  return
}

// CHECK-LABEL: func.func @reshape_item
// CHECK-SAME: (%[[T:.*]]: !tilus.tile<4x8xf32>, %[[O:.*]]: !tilus.tile<1x1xi32>)
func.func @reshape_item(%t: !tilus.tile<4x8xf32>, %one: !tilus.tile<1x1xi32>) {
  // The same row-major elements under another shape.
  // CHECK: tilus.reshape %[[T]] : !tilus.tile<4x8xf32> -> !tilus.tile<2x1x16xf32>
  %r = tilus.reshape %t : !tilus.tile<4x8xf32> -> !tilus.tile<2x1x16xf32>
  // A one-element tile's value as a scalar of its element type.
  // CHECK: tilus.item %[[O]] : !tilus.tile<1x1xi32> -> i32
  %s = tilus.item %one : !tilus.tile<1x1xi32> -> i32
  return
}

// CHECK-LABEL: func.func @unary
// CHECK-SAME: (%[[F:.*]]: !tilus.tile<64xf32>, %[[I:.*]]: !tilus.tile<64xi32>, %[[B:.*]]: !tilus.tile<64xi1>)
func.func @unary(%f: !tilus.tile<64xf32>, %i: !tilus.tile<64xi32>, %b: !tilus.tile<64xi1>) {
  // neg and abs take any number.
  // CHECK: tilus.unary neg %[[I]] : !tilus.tile<64xi32>
  %0 = tilus.unary neg %i : !tilus.tile<64xi32>
  // CHECK: tilus.unary abs %[[F]] : !tilus.tile<64xf32>
  %1 = tilus.unary abs %f : !tilus.tile<64xf32>
  // not is bitwise on integers, logical on bool.
  // CHECK: tilus.unary not %[[I]] : !tilus.tile<64xi32>
  %2 = tilus.unary not %i : !tilus.tile<64xi32>
  // CHECK: tilus.unary not %[[B]] : !tilus.tile<64xi1>
  %3 = tilus.unary not %b : !tilus.tile<64xi1>
  // The rest are float functions.
  // CHECK: tilus.unary exp %[[F]]
  %4 = tilus.unary exp %f : !tilus.tile<64xf32>
  // CHECK: tilus.unary exp2 %[[F]]
  %5 = tilus.unary exp2 %f : !tilus.tile<64xf32>
  // CHECK: tilus.unary log %[[F]]
  %6 = tilus.unary log %f : !tilus.tile<64xf32>
  // CHECK: tilus.unary log2 %[[F]]
  %7 = tilus.unary log2 %f : !tilus.tile<64xf32>
  // CHECK: tilus.unary sqrt %[[F]]
  %8 = tilus.unary sqrt %f : !tilus.tile<64xf32>
  // CHECK: tilus.unary rsqrt %[[F]]
  %9 = tilus.unary rsqrt %f : !tilus.tile<64xf32>
  // CHECK: tilus.unary tanh %[[F]]
  %10 = tilus.unary tanh %f : !tilus.tile<64xf32>
  // CHECK: tilus.unary sin %[[F]]
  %11 = tilus.unary sin %f : !tilus.tile<64xf32>
  // CHECK: tilus.unary cos %[[F]]
  %12 = tilus.unary cos %f : !tilus.tile<64xf32>
  // CHECK: tilus.unary round %[[F]]
  %13 = tilus.unary round %f : !tilus.tile<64xf32>
  // CHECK: tilus.unary floor %[[F]]
  %14 = tilus.unary floor %f : !tilus.tile<64xf32>
  // CHECK: tilus.unary ceil %[[F]] : !tilus.tile<64xf32>
  %15 = tilus.unary ceil %f : !tilus.tile<64xf32>
  // Small float formats are floats too.
  // CHECK: tilus.unary exp %{{.*}} : !tilus.tile<64x!tilus.f8e4m3>
  %h = tilus.cast %f : !tilus.tile<64xf32> -> !tilus.tile<64x!tilus.f8e4m3>
  %16 = tilus.unary exp %h : !tilus.tile<64x!tilus.f8e4m3>
  return
}

// CHECK-LABEL: func.func @unary_scalar
// CHECK-SAME: (%[[S:.*]]: f32, %[[H:.*]]: f16)
func.func @unary_scalar(%s: f32, %h: f16) {
  // The float functions take float scalars too.
  // CHECK: tilus.unary rsqrt %[[S]] : f32
  %0 = tilus.unary rsqrt %s : f32
  // CHECK: tilus.unary exp %[[H]] : f16
  %1 = tilus.unary exp %h : f16
  return
}

// CHECK-LABEL: func.func @cmp_where
// CHECK-SAME: (%[[X:.*]]: !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">>, %[[Y:.*]]: !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">>)
func.func @cmp_where(%x: !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">>, %y: !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">>) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  // A comparison gives an i1 tile with the operands' shape and layout.
  // CHECK: %[[M:.*]] = tilus.cmp lt %[[X]], %[[Y]] : !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">> -> !tilus.tile<64xi1, #tilus.layout<"local(2).spatial(32)">>
  %m = tilus.cmp lt %x, %y : !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">> -> !tilus.tile<64xi1, #tilus.layout<"local(2).spatial(32)">>
  // Every predicate prints by name.
  // CHECK: tilus.cmp eq
  %0 = tilus.cmp eq %x, %y : !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">> -> !tilus.tile<64xi1, #tilus.layout<"local(2).spatial(32)">>
  // CHECK: tilus.cmp ne
  %1 = tilus.cmp ne %x, %y : !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">> -> !tilus.tile<64xi1, #tilus.layout<"local(2).spatial(32)">>
  // CHECK: tilus.cmp le
  %2 = tilus.cmp le %x, %y : !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">> -> !tilus.tile<64xi1, #tilus.layout<"local(2).spatial(32)">>
  // CHECK: tilus.cmp gt
  %3 = tilus.cmp gt %x, %y : !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">> -> !tilus.tile<64xi1, #tilus.layout<"local(2).spatial(32)">>
  // CHECK: tilus.cmp ge
  %4 = tilus.cmp ge %x, %y : !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">> -> !tilus.tile<64xi1, #tilus.layout<"local(2).spatial(32)">>
  // where selects between two values of the result type by an i1 condition.
  // CHECK: tilus.where %[[M]], %[[X]], %[[Y]] : !tilus.tile<64xi1, #tilus.layout<"local(2).spatial(32)">>, !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">>
  %r = tilus.where %m, %x, %y : !tilus.tile<64xi1, #tilus.layout<"local(2).spatial(32)">>, !tilus.tile<64xf32, #tilus.layout<"local(2).spatial(32)">>
  return
}

// CHECK-LABEL: func.func @reduce
// CHECK-SAME: (%[[X:.*]]: !tilus.tile<16x64xf32>, %[[V:.*]]: !tilus.tile<64xi32>)
func.func @reduce(%x: !tilus.tile<16x64xf32>, %v: !tilus.tile<64xi32>) {
  // keepdim leaves the reduced dimension with extent 1.
  // CHECK: tilus.reduce sum %[[X]] {dim = 1 : i64, keepdim = true} : !tilus.tile<16x64xf32> -> !tilus.tile<16x1xf32>
  %a = tilus.reduce sum %x {dim = 1 : i64, keepdim = true} : !tilus.tile<16x64xf32> -> !tilus.tile<16x1xf32>
  // Without keepdim the dimension is removed.
  // CHECK: tilus.reduce max %[[X]] {dim = 0 : i64, keepdim = false} : !tilus.tile<16x64xf32> -> !tilus.tile<64xf32>
  %b = tilus.reduce max %x {dim = 0 : i64, keepdim = false} : !tilus.tile<16x64xf32> -> !tilus.tile<64xf32>
  // A rank-1 tile reduces to extent 1 either way.
  // CHECK: tilus.reduce min %[[V]] {dim = 0 : i64, keepdim = false} : !tilus.tile<64xi32> -> !tilus.tile<1xi32>
  %c = tilus.reduce min %v {dim = 0 : i64, keepdim = false} : !tilus.tile<64xi32> -> !tilus.tile<1xi32>
  // argmax and argmin give i32 indices.
  // CHECK: tilus.reduce argmax %[[X]] {dim = 1 : i64, keepdim = false} : !tilus.tile<16x64xf32> -> !tilus.tile<16xi32>
  %d = tilus.reduce argmax %x {dim = 1 : i64, keepdim = false} : !tilus.tile<16x64xf32> -> !tilus.tile<16xi32>
  // CHECK: tilus.reduce argmin %[[X]] {dim = 0 : i64, keepdim = true} : !tilus.tile<16x64xf32> -> !tilus.tile<1x64xi32>
  %e = tilus.reduce argmin %x {dim = 0 : i64, keepdim = true} : !tilus.tile<16x64xf32> -> !tilus.tile<1x64xi32>
  return
}

// CHECK-LABEL: func.func @dot
// CHECK-SAME: (%[[A:.*]]: !tilus.tile<16x8xf16>, %[[B:.*]]: !tilus.tile<8x32xf16>, %[[C:.*]]: !tilus.tile<16x32xf32>)
func.func @dot(%a: !tilus.tile<16x8xf16>, %b: !tilus.tile<8x32xf16>, %c: !tilus.tile<16x32xf32>) {
  // (M x K) @ (K x N) + (M x N), accumulating in c's type.
  // CHECK: tilus.dot %[[A]], %[[B]], %[[C]] : !tilus.tile<16x8xf16>, !tilus.tile<8x32xf16>, !tilus.tile<16x32xf32>
  %d = tilus.dot %a, %b, %c : !tilus.tile<16x8xf16>, !tilus.tile<8x32xf16>, !tilus.tile<16x32xf32>
  return
}

// CHECK-LABEL: func.func @dot_layouts
func.func @dot_layouts(%a: !tilus.tile<16x16xf16, #tilus.layout<"column_local(2,2).spatial(8,4).local(1,2)">>, %b: !tilus.tile<16x8xf16, #tilus.layout<"local(2,1).column_spatial(4,8).local(2,1)">>, %c: !tilus.tile<16x8xf32, #tilus.layout<"local(2,1).spatial(8,4).local(1,2)">>) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  // The mma.m16n8k16 fragment layouts, one warp.
  // CHECK: tilus.dot %{{.*}}, %{{.*}}, %{{.*}} : !tilus.tile<16x16xf16, #tilus.layout<"column_local(2,2).spatial(8,4).local(1,2)">>, !tilus.tile<16x8xf16, #tilus.layout<"local(2,1).column_spatial(4,8).local(2,1)">>, !tilus.tile<16x8xf32, #tilus.layout<"local(2,1).spatial(8,4).local(1,2)">>
  %d = tilus.dot %a, %b, %c : !tilus.tile<16x16xf16, #tilus.layout<"column_local(2,2).spatial(8,4).local(1,2)">>, !tilus.tile<16x8xf16, #tilus.layout<"local(2,1).column_spatial(4,8).local(2,1)">>, !tilus.tile<16x8xf32, #tilus.layout<"local(2,1).spatial(8,4).local(1,2)">>
  return
}

// CHECK-LABEL: func.func @binary
// CHECK-SAME: (%[[F:.*]]: !tilus.tile<64xf32>, %[[I:.*]]: !tilus.tile<64xi32>, %[[B:.*]]: !tilus.tile<64xi1>)
func.func @binary(%f: !tilus.tile<64xf32>, %i: !tilus.tile<64xi32>, %b: !tilus.tile<64xi1>) {
  // rem, min and max take numbers.
  // CHECK: tilus.rem %[[I]], %[[I]] : !tilus.tile<64xi32>
  %0 = tilus.rem %i, %i : !tilus.tile<64xi32>
  // CHECK: tilus.rem %[[F]], %[[F]] : !tilus.tile<64xf32>
  %1 = tilus.rem %f, %f : !tilus.tile<64xf32>
  // CHECK: tilus.min %[[F]], %[[F]] : !tilus.tile<64xf32>
  %2 = tilus.min %f, %f : !tilus.tile<64xf32>
  // CHECK: tilus.max %[[I]], %[[I]] : !tilus.tile<64xi32>
  %3 = tilus.max %i, %i : !tilus.tile<64xi32>
  // and, or and xor take integers and bool.
  // CHECK: tilus.and %[[I]], %[[I]] : !tilus.tile<64xi32>
  %4 = tilus.and %i, %i : !tilus.tile<64xi32>
  // CHECK: tilus.or %[[B]], %[[B]] : !tilus.tile<64xi1>
  %5 = tilus.or %b, %b : !tilus.tile<64xi1>
  // CHECK: tilus.xor %[[B]], %[[B]] : !tilus.tile<64xi1>
  %6 = tilus.xor %b, %b : !tilus.tile<64xi1>
  // CHECK: tilus.xor %{{.*}}, %{{.*}} : !tilus.tile<64x!tilus.u4>
  %u = tilus.cast %i : !tilus.tile<64xi32> -> !tilus.tile<64x!tilus.u4>
  %7 = tilus.xor %u, %u : !tilus.tile<64x!tilus.u4>
  return
}

// CHECK-LABEL: func.func @shared_type
// CHECK-SAME: !tilus.shared<64x64xf16>
// CHECK-SAME: !tilus.shared<8x64xf16, #tilus.shared_layout<"shared(8,64).row_major().swizzle(3,3,3)">>
// CHECK-SAME: !tilus.shared<64x8x!tilus.u4, #tilus.shared_layout<"shared(64,8).column_major()">>
func.func @shared_type(%a: !tilus.shared<64x64xf16>, %b: !tilus.shared<8x64xf16, #tilus.shared_layout<"shared(8,64).row_major().swizzle(3,3,3)">>, %c: !tilus.shared<64x8x!tilus.u4, #tilus.shared_layout<"shared(64,8).column_major()">>) {
  // The shared type holds any tilus data type, with or without a layout.
  return
}

// CHECK-LABEL: func.func @shared_memory
func.func @shared_memory(%i: i32) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  // An allocation names its shape, element type and optional layout.
  // CHECK: %[[S:.*]] = tilus.alloc_shared : !tilus.shared<64x64xf16>
  %s = tilus.alloc_shared : !tilus.shared<64x64xf16>
  // CHECK: %[[P:.*]] = tilus.alloc_shared : !tilus.shared<8x64xf16, #tilus.shared_layout<"shared(8,64).row_major().swizzle(3,3,3)">>
  %p = tilus.alloc_shared : !tilus.shared<8x64xf16, #tilus.shared_layout<"shared(8,64).row_major().swizzle(3,3,3)">>
  // A load takes one offset per dimension and a tile that fits.
  // CHECK: %[[T:.*]] = tilus.load_shared %[[S]][%{{.*}}, %{{.*}}] : !tilus.shared<64x64xf16>, i32, i32 -> !tilus.tile<64x16xf16>
  %t = tilus.load_shared %s[%i, %i] : !tilus.shared<64x64xf16>, i32, i32 -> !tilus.tile<64x16xf16>
  // CHECK: %[[U:.*]] = tilus.load_shared %[[P]][%{{.*}}, %{{.*}}] : !tilus.shared<8x64xf16, #tilus.shared_layout<"shared(8,64).row_major().swizzle(3,3,3)">>, i32, i32 -> !tilus.tile<8x64xf16, #tilus.layout<"spatial(8,4).local(1,16)">>
  %u = tilus.load_shared %p[%i, %i] : !tilus.shared<8x64xf16, #tilus.shared_layout<"shared(8,64).row_major().swizzle(3,3,3)">>, i32, i32 -> !tilus.tile<8x64xf16, #tilus.layout<"spatial(8,4).local(1,16)">>
  // A store writes a tile at offsets of any integer type.
  // CHECK: tilus.store_shared %[[T]], %[[S]][%{{.*}}, %{{.*}}] : !tilus.tile<64x16xf16>, !tilus.shared<64x64xf16>, i32, i64
  %j = arith.extsi %i : i32 to i64
  tilus.store_shared %t, %s[%i, %j] : !tilus.tile<64x16xf16>, !tilus.shared<64x64xf16>, i32, i64
  // CHECK: tilus.store_shared %[[U]], %[[P]]
  tilus.store_shared %u, %p[%i, %i] : !tilus.tile<8x64xf16, #tilus.layout<"spatial(8,4).local(1,16)">>, !tilus.shared<8x64xf16, #tilus.shared_layout<"shared(8,64).row_major().swizzle(3,3,3)">>, i32, i32
  // CHECK: tilus.free_shared %[[S]] : !tilus.shared<64x64xf16>
  tilus.free_shared %s : !tilus.shared<64x64xf16>
  // CHECK: tilus.free_shared %[[P]] : !tilus.shared<8x64xf16, #tilus.shared_layout<"shared(8,64).row_major().swizzle(3,3,3)">>
  tilus.free_shared %p : !tilus.shared<8x64xf16, #tilus.shared_layout<"shared(8,64).row_major().swizzle(3,3,3)">>
  return
}

// CHECK-LABEL: func.func @copy_async
func.func @copy_async(%ptr: !llvm.ptr<1>, %m: i32, %k: i32) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  // CHECK: %[[A:.*]] = tilus.global_view
  %a = tilus.global_view %ptr[%m, %k] : !llvm.ptr<1>, i32, i32 -> !tilus.global<?x?xf16>
  // CHECK: %[[S:.*]] = tilus.alloc_shared
  %s = tilus.alloc_shared : !tilus.shared<64x64xf16>
  // A copy names the global region's offsets, one per dimension, and the
  // destination. Written in generic form; the custom form must parse back.
  // CHECK: tilus.copy_async %[[A]][%{{.*}}, %{{.*}}], %[[S]] :
  "tilus.copy_async"(%a, %m, %k, %s) : (!tilus.global<?x?xf16>, i32, i32, !tilus.shared<64x64xf16>) -> ()
  // Commit closes a group; wait leaves at most `pending` groups in flight.
  // CHECK-NEXT: tilus.copy_async_commit
  tilus.copy_async_commit
  // CHECK-NEXT: tilus.copy_async_wait 0
  tilus.copy_async_wait 0
  // CHECK-NEXT: tilus.copy_async_wait 7
  tilus.copy_async_wait 7
  // A block-wide barrier.
  // CHECK-NEXT: tilus.sync
  tilus.sync
  return
}

// CHECK-LABEL: func.func @tma
func.func @tma(%ptr: !llvm.ptr<1>, %m: i32, %k: i32 {tilus.divisibility = 8 : i64}) attributes {tilus.kernel, tilus.num_warps = 4 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.global_view %ptr[%m, %k] : !llvm.ptr<1>, i32, i32 -> !tilus.global<?x?xf16>
  // CHECK: %[[B:.*]] = tilus.alloc_barrier 2 : !tilus.barrier
  %bar = tilus.alloc_barrier 2 : !tilus.barrier
  %s = tilus.alloc_shared : !tilus.shared<64x64xf16, #tilus.shared_layout<"shared(64,64).row_major().swizzle(3,3,3)">>
  // CHECK: tilus.copy_tma %{{.*}}[%{{.*}}, %{{.*}}], %{{.*}}, %[[B]] : !tilus.global<?x?xf16>, !tilus.shared<64x64xf16
  "tilus.copy_tma"(%a, %m, %k, %s, %bar) : (!tilus.global<?x?xf16>, i32, i32, !tilus.shared<64x64xf16, #tilus.shared_layout<"shared(64,64).row_major().swizzle(3,3,3)">>, !tilus.barrier) -> ()
  // CHECK: tilus.wait_barrier %[[B]], %{{.*}} : i32
  tilus.wait_barrier %bar, %m : i32
  // CHECK: tilus.arrive_barrier %[[B]]
  tilus.arrive_barrier %bar
  return
}

// CHECK-LABEL: func.func @print
// CHECK-SAME: (%[[T:.*]]: !tilus.tile<32xf32, #tilus.layout<"spatial(32)">>, %[[X:.*]]: i32, %[[U:.*]]: !tilus.u4)
func.func @print(%t: !tilus.tile<32xf32, #tilus.layout<"spatial(32)">>, %x: i32, %u: !tilus.u4) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  // Tiles and scalars of tilus data types print with a label.
  // CHECK: tilus.print "t" %[[T]] : !tilus.tile<32xf32, #tilus.layout<"spatial(32)">>
  tilus.print "t" %t : !tilus.tile<32xf32, #tilus.layout<"spatial(32)">>
  // CHECK: tilus.print "x" %[[X]] : i32
  tilus.print "x" %x : i32
  // CHECK: tilus.print "u" %[[U]] : !tilus.u4
  tilus.print "u" %u : !tilus.u4
  return
}

// CHECK-LABEL: func.func @unroll
func.func @unroll(%n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  // tilus.unroll asks for a positive unroll factor on an scf.for.
  // CHECK: scf.for
  // CHECK: } {tilus.unroll = 4 : i64}
  scf.for %i = %c0 to %n step %c1 {
  } {tilus.unroll = 4 : i64}
  return
}
