// RUN: tilus-opt %s | tilus-opt | FileCheck %s
// Every tilus op and type prints in a form that parses back to itself.

// CHECK-LABEL: func.func @roundtrip
// CHECK-SAME: tilus.grid = ["cdiv(n, 256)", "1", "1"], tilus.kernel, tilus.num_warps = 2 : i32
func.func @roundtrip(%p: !llvm.ptr<1>, %q: !llvm.ptr<1>, %n: i32 {tilus.divisibility = 16 : i64})
    attributes {tilus.kernel, tilus.num_warps = 2 : i32, tilus.grid = ["cdiv(n, 256)", "1", "1"]} {
  // CHECK: %[[A:.*]] = tilus.global_view %{{.*}}[%{{.*}}] : !llvm.ptr<1>, i32 -> !tilus.global<?xf32>
  %a = tilus.global_view %p[%n] : !llvm.ptr<1>, i32 -> !tilus.global<?xf32>
  // CHECK: tilus.global_view %{{.*}}[] : !llvm.ptr<1> -> !tilus.global<16x4xf16>
  %b = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<16x4xf16>
  // CHECK: tilus.block_idx 1 : i32
  %by = tilus.block_idx 1 : i32
  // CHECK: tilus.thread_idx : i32
  %t = tilus.thread_idx : i32
  // CHECK: %[[X:.*]] = tilus.load_global %[[A]][%{{.*}}] : !tilus.global<?xf32>, i32 -> !tilus.tile<256xf32, #tilus.layout<"local(4).spatial(64)">>
  %x = tilus.load_global %a[%by] : !tilus.global<?xf32>, i32 -> !tilus.tile<256xf32, #tilus.layout<"local(4).spatial(64)">>
  %c = arith.constant 2.0 : f32
  // CHECK: tilus.full %{{.*}} : f32 -> !tilus.tile<256xf32, #tilus.layout<"local(4).spatial(64)">>
  %f = tilus.full %c : f32 -> !tilus.tile<256xf32, #tilus.layout<"local(4).spatial(64)">>
  // CHECK: tilus.add %[[X]], %{{.*}} : !tilus.tile<256xf32
  %s = tilus.add %x, %f : !tilus.tile<256xf32, #tilus.layout<"local(4).spatial(64)">>
  // CHECK: tilus.sub
  %d = tilus.sub %s, %x : !tilus.tile<256xf32, #tilus.layout<"local(4).spatial(64)">>
  // CHECK: tilus.mul
  %m = tilus.mul %d, %x : !tilus.tile<256xf32, #tilus.layout<"local(4).spatial(64)">>
  // CHECK: tilus.div
  %q2 = tilus.div %m, %x : !tilus.tile<256xf32, #tilus.layout<"local(4).spatial(64)">>
  // CHECK: tilus.store_global %{{.*}}, %[[A]][%{{.*}}] : !tilus.tile<256xf32, #tilus.layout<"local(4).spatial(64)">>, !tilus.global<?xf32>, i32
  tilus.store_global %q2, %a[%t] : !tilus.tile<256xf32, #tilus.layout<"local(4).spatial(64)">>, !tilus.global<?xf32>, i32
  // CHECK: tilus.load_global {{.*}} -> !tilus.tile<16x4xf16, #tilus.layout<"spatial(8,4).spatial(2,1)">>
  %y = tilus.load_global %b[%t, %t] : !tilus.global<16x4xf16>, i32, i32 -> !tilus.tile<16x4xf16, #tilus.layout<"local(1,1).spatial(8,4).column_spatial(2,1)">>
  return
}
