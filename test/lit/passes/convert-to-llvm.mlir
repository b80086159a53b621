// RUN: tilus-opt %s --tilus-lower-to-llvm | FileCheck %s
// Kernels become nvvm kernels with maxntid from tilus.num_warps; tiles become
// per-thread vectors, transfers per-element guarded accesses.

// CHECK-LABEL: llvm.func @copy
// CHECK-SAME: nvvm.kernel
// CHECK-SAME: nvvm.maxntid = array<i32: 64, 1, 1>
// CHECK-NOT: tilus.num_warps
// CHECK: nvvm.read.ptx.sreg.tid.x
// CHECK: llvm.icmp "ult"
// CHECK: llvm.cond_br
// CHECK: llvm.load {{.*}} : !llvm.ptr<1> -> f32
// CHECK: llvm.fadd {{.*}} : vector<2xf32>
// CHECK: llvm.store {{.*}} : f32, !llvm.ptr<1>
func.func @copy(%p: !llvm.ptr<1>, %n: i32)
    attributes {tilus.kernel, tilus.num_warps = 2 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.global_view %p[%n] : !llvm.ptr<1>, i32 -> !tilus.global<?xf32>
  %bx = tilus.block_idx 0 : i32
  %x = tilus.load_global %a[%bx] : !tilus.global<?xf32>, i32 -> !tilus.tile<128xf32, #tilus.layout<"local(2).spatial(64)">>
  %y = tilus.add %x, %x : !tilus.tile<128xf32, #tilus.layout<"local(2).spatial(64)">>
  tilus.store_global %y, %a[%bx] : !tilus.tile<128xf32, #tilus.layout<"local(2).spatial(64)">>, !tilus.global<?xf32>, i32
  return
}
