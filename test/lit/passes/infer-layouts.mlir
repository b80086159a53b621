// RUN: tilus-opt %s -split-input-file --tilus-infer-layouts | FileCheck %s
// One case per rule of layout inference; kernels of 1 warp (32 threads).

// Anchors get the default layout: runs of up to 16 bytes along the innermost
// dimension, threads innermost first, leftover threads replicate.
// CHECK-LABEL: func.func @anchors
// CHECK: tilus.load_global {{.*}} -> !tilus.tile<8x64xf32, #tilus.layout<"local(4,1).spatial(2,16).local(1,4)">>
// CHECK: tilus.arange 0 : !tilus.tile<8xi32, #tilus.layout<"replicate(4).spatial(8)">>
// CHECK: tilus.full {{.*}} -> !tilus.tile<4x256xf16, #tilus.layout<"local(4,1).spatial(1,32).local(1,8)">>
func.func @anchors(%p: !llvm.ptr<1>, %x: f16) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %a = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<8x64xf32>
  %t = tilus.load_global %a[%c0, %c0] : !tilus.global<8x64xf32>, i32, i32 -> !tilus.tile<8x64xf32>
  %i = tilus.arange 0 : !tilus.tile<8xi32>
  %f = tilus.full %x : f16 -> !tilus.tile<4x256xf16>
  return
}

// -----

// Elementwise results follow the first operand; an operand inferred with
// another layout is converted.
// CHECK-LABEL: func.func @elementwise
// CHECK: %[[T:.*]] = tilus.transpose {{.*}} -> !tilus.tile<8x4xf32, #tilus.layout<"[[TL:.*]]">>
// CHECK: %[[C:.*]] = tilus.convert_layout %{{.*}} : !tilus.tile<8x4xf32, #tilus.layout<"spatial(8,4)">> -> !tilus.tile<8x4xf32, #tilus.layout<"[[TL]]">>
// CHECK: tilus.add %[[T]], %[[C]] : !tilus.tile<8x4xf32, #tilus.layout<"[[TL]]">>
func.func @elementwise(%x: f32, %p: !llvm.ptr<1>) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %a = tilus.full %x : f32 -> !tilus.tile<4x8xf32, #tilus.layout<"spatial(4,8)">>
  %t = tilus.transpose %a [1, 0] : !tilus.tile<4x8xf32, #tilus.layout<"spatial(4,8)">> -> !tilus.tile<8x4xf32>
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<8x4xf32>
  %c = tilus.load_global %g[%c0, %c0] : !tilus.global<8x4xf32>, i32, i32 -> !tilus.tile<8x4xf32>
  %d = tilus.add %t, %c : !tilus.tile<8x4xf32>
  return
}

// -----

// A constant tile (full) is made in the layout of the operand it meets, also
// as the first operand: no conversion. One that meets another layout than
// its own is made again in it, once per layout, next to the original.
// CHECK-LABEL: func.func @constant_operand
// CHECK-NOT: tilus.convert_layout
// CHECK: %[[F:.*]] = tilus.full %{{.*}} -> !tilus.tile<8x4xf32, #tilus.layout<"spatial(8,4)">>
// CHECK: %[[G:.*]] = tilus.full %{{.*}} -> !tilus.tile<8x4xf32, #tilus.layout<"column_spatial(8,4)">>
// CHECK-NOT: tilus.convert_layout
// CHECK: %[[T:.*]] = tilus.transpose
// CHECK: %[[B:.*]] = tilus.load_global
// CHECK: tilus.sub %[[G]], %[[T]] : !tilus.tile<8x4xf32, #tilus.layout<"column_spatial(8,4)">>
// CHECK: tilus.mul %[[G]], %[[T]]
// CHECK: tilus.add %[[F]], %[[B]] : !tilus.tile<8x4xf32, #tilus.layout<"spatial(8,4)">>
// CHECK-NOT: tilus.convert_layout
func.func @constant_operand(%x: f32, %p: !llvm.ptr<1>) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %f = tilus.full %x : f32 -> !tilus.tile<8x4xf32>
  %a = tilus.full %x : f32 -> !tilus.tile<4x8xf32, #tilus.layout<"spatial(4,8)">>
  %t = tilus.transpose %a [1, 0] : !tilus.tile<4x8xf32, #tilus.layout<"spatial(4,8)">> -> !tilus.tile<8x4xf32>
  %gb = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<8x4xf32>
  %b = tilus.load_global %gb[%c0, %c0] : !tilus.global<8x4xf32>, i32, i32 -> !tilus.tile<8x4xf32>
  %d = tilus.sub %f, %t : !tilus.tile<8x4xf32>
  %e = tilus.mul %f, %t : !tilus.tile<8x4xf32>
  %g = tilus.add %f, %b : !tilus.tile<8x4xf32>
  return
}

// -----

// A reduction reduces its source layout: spatial modes become replication.
// CHECK-LABEL: func.func @reduce
// CHECK: tilus.reduce sum {{.*}} -> !tilus.tile<4x1xf32, #tilus.layout<"spatial(4,1).replicate(8)">>
func.func @reduce(%x: f32) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.full %x : f32 -> !tilus.tile<4x64xf32, #tilus.layout<"spatial(4,8).local(1,8)">>
  %s = tilus.reduce sum %a {dim = 1 : i64, keepdim = true} : !tilus.tile<4x64xf32, #tilus.layout<"spatial(4,8).local(1,8)">> -> !tilus.tile<4x1xf32>
  return
}

// -----

// A broadcast result gets the default layout; its source is converted to
// that layout reduced over the broadcast dimension.
// CHECK-LABEL: func.func @broadcast
// CHECK: %[[S:.*]] = tilus.convert_layout {{.*}} -> !tilus.tile<4x1xf32, #tilus.layout<"[[RED:.*]]">>
// CHECK: tilus.broadcast %[[S]] : !tilus.tile<4x1xf32, #tilus.layout<"[[RED]]">> -> !tilus.tile<4x64xf32, #tilus.layout<"local(2,1).spatial(2,16).local(1,4)">>
func.func @broadcast(%p: !llvm.ptr<1>) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<4x1xf32>
  %a = tilus.load_global %g[%c0, %c0] : !tilus.global<4x1xf32>, i32, i32 -> !tilus.tile<4x1xf32, #tilus.layout<"spatial(4,1).replicate(8)">>
  %b = tilus.broadcast %a : !tilus.tile<4x1xf32, #tilus.layout<"spatial(4,1).replicate(8)">> -> !tilus.tile<4x64xf32>
  return
}

// -----

// A transpose permutes its source layout; no data moves.
// CHECK-LABEL: func.func @transpose
// CHECK: tilus.transpose {{.*}} -> !tilus.tile<64x4xf32, #tilus.layout<"column_spatial(8,4).local(8,1)">>
func.func @transpose(%x: f32) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.full %x : f32 -> !tilus.tile<4x64xf32, #tilus.layout<"spatial(4,8).local(1,8)">>
  %t = tilus.transpose %a [1, 0] : !tilus.tile<4x64xf32, #tilus.layout<"spatial(4,8).local(1,8)">> -> !tilus.tile<64x4xf32>
  return
}

// -----

// A reshape takes its source layout reshaped when the algebra can reshape
// it (the same registers); otherwise the default layout of the result, and
// the elements move when it lowers.
// CHECK-LABEL: func.func @reshape
// CHECK: tilus.reshape {{.*}} -> !tilus.tile<2x128xf32, #tilus.layout<"spatial(2,16).local(1,8)">>
// CHECK: tilus.reshape {{.*}} -> !tilus.tile<5x48xf32, #tilus.layout<"replicate(8).local(5,3).spatial(1,4).local(1,4)">>
func.func @reshape(%x: f32) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.full %x : f32 -> !tilus.tile<4x64xf32, #tilus.layout<"spatial(4,8).local(1,8)">>
  %r = tilus.reshape %a : !tilus.tile<4x64xf32, #tilus.layout<"spatial(4,8).local(1,8)">> -> !tilus.tile<2x128xf32>
  %b = tilus.full %x : f32 -> !tilus.tile<6x40xf32, #tilus.layout<"local(3,5).spatial(2,8).replicate(2)">>
  %s = tilus.reshape %b : !tilus.tile<6x40xf32, #tilus.layout<"local(3,5).spatial(2,8).replicate(2)">> -> !tilus.tile<5x48xf32>
  return
}

// -----

// A load raised to a higher rank only for a broadcast ([n] + [m, n]) is
// loaded in the layout the broadcast needs: no conversion.
// CHECK-LABEL: func.func @broadcast_raised_load
// CHECK: %[[V:.*]] = tilus.load_global {{.*}} -> !tilus.tile<64xf32, #tilus.layout<"replicate(2).spatial(16).local(4)">>
// CHECK: %[[R:.*]] = tilus.reshape %[[V]] {{.*}} -> !tilus.tile<1x64xf32, #tilus.layout<"replicate(2).spatial(1,16).local(1,4)">>
// CHECK-NOT: convert_layout
// CHECK: tilus.broadcast %[[R]]
func.func @broadcast_raised_load(%g: !tilus.global<64xf32>, %h: !tilus.global<8x64xf32>) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %t = tilus.load_global %h[%c0, %c0] : !tilus.global<8x64xf32>, i32, i32 -> !tilus.tile<8x64xf32>
  %v = tilus.load_global %g[%c0] : !tilus.global<64xf32>, i32 -> !tilus.tile<64xf32>
  %r = tilus.reshape %v : !tilus.tile<64xf32> -> !tilus.tile<1x64xf32>
  %b = tilus.broadcast %r : !tilus.tile<1x64xf32> -> !tilus.tile<8x64xf32>
  %s = tilus.add %t, %b : !tilus.tile<8x64xf32>
  return
}

// -----

// A view between types of one width keeps the layout.
// CHECK-LABEL: func.func @view
// CHECK: tilus.view {{.*}} -> !tilus.tile<32xi32, #tilus.layout<"spatial(32)">>
func.func @view(%x: f32) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.full %x : f32 -> !tilus.tile<32xf32, #tilus.layout<"spatial(32)">>
  %v = tilus.view %a : !tilus.tile<32xf32, #tilus.layout<"spatial(32)">> -> !tilus.tile<32xi32>
  return
}

// -----

// dot: a gets c's layout reduced over N and extended along K, b c's layout
// reduced over M and extended along K; the result keeps c's layout.
// CHECK-LABEL: func.func @dot
// CHECK: %[[A:.*]] = tilus.convert_layout {{.*}} -> !tilus.tile<8x16xf32, #tilus.layout<"local(1,16).spatial(8,1).replicate(4)">>
// CHECK: %[[B:.*]] = tilus.convert_layout {{.*}} -> !tilus.tile<16x4xf32, #tilus.layout<"replicate(8).local(16,1).spatial(1,4)">>
// CHECK: tilus.dot %[[A]], %[[B]], %{{.*}} : {{.*}}, !tilus.tile<8x4xf32, #tilus.layout<"spatial(8,4)">>
func.func @dot(%x: f32, %p: !llvm.ptr<1>, %q: !llvm.ptr<1>) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %ga = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<8x16xf32>
  %gb = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<16x4xf32>
  %a = tilus.load_global %ga[%c0, %c0] : !tilus.global<8x16xf32>, i32, i32 -> !tilus.tile<8x16xf32>
  %b = tilus.load_global %gb[%c0, %c0] : !tilus.global<16x4xf32>, i32, i32 -> !tilus.tile<16x4xf32>
  %c = tilus.full %x : f32 -> !tilus.tile<8x4xf32, #tilus.layout<"spatial(8,4)">>
  %d = tilus.dot %a, %b, %c : !tilus.tile<8x16xf32>, !tilus.tile<16x4xf32>, !tilus.tile<8x4xf32, #tilus.layout<"spatial(8,4)">>
  return
}

// -----

// Loop-carried tiles keep their initial layout.
// CHECK-LABEL: func.func @loop
// CHECK: scf.for {{.*}} iter_args(%[[ACC:.*]] = %{{.*}}) -> (!tilus.tile<32xf32, #tilus.layout<"spatial(32)">>)
// CHECK:   tilus.add %[[ACC]], %{{.*}} : !tilus.tile<32xf32, #tilus.layout<"spatial(32)">>
func.func @loop(%x: f32, %n: i32) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %c1 = arith.constant 1 : i32
  %init = tilus.full %x : f32 -> !tilus.tile<32xf32>
  %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %init) -> (!tilus.tile<32xf32>) : i32 {
    %one = tilus.full %x : f32 -> !tilus.tile<32xf32>
    %next = tilus.add %acc, %one : !tilus.tile<32xf32>
    scf.yield %next : !tilus.tile<32xf32>
  }
  return
}

// -----

// An if's results take the then-branch's layouts.
// CHECK-LABEL: func.func @branch
// CHECK: scf.if {{.*}} -> (!tilus.tile<32xf32, #tilus.layout<"spatial(32)">>)
func.func @branch(%x: f32, %c: i1) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %r = scf.if %c -> (!tilus.tile<32xf32>) {
    %a = tilus.full %x : f32 -> !tilus.tile<32xf32>
    scf.yield %a : !tilus.tile<32xf32>
  } else {
    %b = tilus.full %x : f32 -> !tilus.tile<32xf32>
    scf.yield %b : !tilus.tile<32xf32>
  }
  return
}

// -----

// Explicit layouts are kept.
// CHECK-LABEL: func.func @pinned
// CHECK: tilus.load_global {{.*}} -> !tilus.tile<8x64xf32, #tilus.layout<"spatial(8,4).local(1,16)">>
func.func @pinned(%p: !llvm.ptr<1>) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %a = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<8x64xf32>
  %t = tilus.load_global %a[%c0, %c0] : !tilus.global<8x64xf32>, i32, i32 -> !tilus.tile<8x64xf32, #tilus.layout<"spatial(8,4).local(1,16)">>
  return
}

// -----

// A convert_layout without a result layout (the frontend's conversion of a
// yielded value to a carried tile that has none yet) keeps its source's; the
// loop then converts the yield to the carried layout.
// CHECK-LABEL: func.func @convert_to_carried
// CHECK: %[[C:.*]] = tilus.convert_layout %{{.*}} : !tilus.tile<32xf32, #tilus.layout<"replicate(32).local(32)">> -> !tilus.tile<32xf32, #tilus.layout<"replicate(32).local(32)">>
// CHECK: %[[Y:.*]] = tilus.convert_layout %[[C]] {{.*}} -> !tilus.tile<32xf32, #tilus.layout<"spatial(32)">>
// CHECK: scf.yield %[[Y]]
func.func @convert_to_carried(%x: f32, %p: !llvm.ptr<1>) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : index
  %c2 = arith.constant 2 : index
  %c1 = arith.constant 1 : index
  %i0 = arith.constant 0 : i32
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<32xf32>
  %init = tilus.load_global %g[%i0] : !tilus.global<32xf32>, i32 -> !tilus.tile<32xf32>
  %r = scf.for %i = %c0 to %c2 step %c1 iter_args(%acc = %init) -> (!tilus.tile<32xf32>) {
    %a = tilus.full %x : f32 -> !tilus.tile<32xf32, #tilus.layout<"replicate(32).local(32)">>
    %c = tilus.convert_layout %a : !tilus.tile<32xf32, #tilus.layout<"replicate(32).local(32)">> -> !tilus.tile<32xf32>
    scf.yield %c : !tilus.tile<32xf32>
  }
  return
}

// -----

// In a thread group the default layout spreads over the group's threads:
// 128 elements over 2 warps (64 threads, 2 each) in the group, over the
// kernel's 8 warps (256 threads, half of them replicating) outside it.
// CHECK-LABEL: func.func @thread_group
// CHECK: tilus.thread_group warps(4, 2)
// CHECK: tilus.load_global {{.*}} -> !tilus.tile<128xf32, #tilus.layout<"spatial(64).local(2)">>
// CHECK: }
// CHECK: tilus.load_global {{.*}} -> !tilus.tile<128xf32, #tilus.layout<"replicate(2).spatial(128)">>
func.func @thread_group(%p: !llvm.ptr<1>) attributes {tilus.kernel, tilus.num_warps = 8 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %a = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<128xf32>
  tilus.thread_group warps(4, 2) {
    %t = tilus.load_global %a[%c0] : !tilus.global<128xf32>, i32 -> !tilus.tile<128xf32>
  }
  %u = tilus.load_global %a[%c0] : !tilus.global<128xf32>, i32 -> !tilus.tile<128xf32>
  return
}
