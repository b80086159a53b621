// RUN: tilus-opt %s --tilus-plan-shared-memory --tilus-convert-to-llvm | FileCheck %s
// Shared tensors are addresses in the one dynamic shared array at their
// planned offsets; accesses go through the layout (swizzle: an xor of
// offset bits); free_shared emits nothing; asynchronous copies are cp.async
// intrinsics with a source size; waits and barriers are NVVM ops. A load of
// 16 consecutive f16 per thread from the swizzled tensor (the swizzle keeps
// 8-element runs in place) moves 8 at a time. The slice
// moves elements between threads through scratch above both tensors (rows
// of 128 bytes padded to 132: 7 x 132 + 128 bytes).

// CHECK: llvm.mlir.global external @tilus_smem() {addr_space = 3 : i32, alignment = 128 : i64} : !llvm.array<0 x i8>
// CHECK-LABEL: llvm.func @shared
// CHECK-SAME: tilus.shared_bytes = 4124 : i64
// CHECK: llvm.mlir.addressof @tilus_smem : !llvm.ptr<3>
// CHECK: llvm.getelementptr %{{.*}}[1024] : (!llvm.ptr<3>) -> !llvm.ptr<3>, i8
// CHECK: llvm.call_intrinsic "llvm.nvvm.cp.async.cg.shared.global.16.s"(%{{.*}}, %{{.*}}, %{{.*}}) : (!llvm.ptr<3>, !llvm.ptr<1>, i32) -> ()
// CHECK: nvvm.cp.async.commit.group
// CHECK: nvvm.cp.async.wait.group 0
// CHECK: nvvm.barrier0
// CHECK: llvm.xor
// CHECK: llvm.load %{{.*}} {alignment = 16 : i64} : !llvm.ptr<3> -> vector<8xf16>
// CHECK: llvm.getelementptr %{{.*}}[3072] : (!llvm.ptr<3>) -> !llvm.ptr<3>, i8
// CHECK: nvvm.barrier0
// CHECK: llvm.store %{{.*}}, %{{.*}} : f16, !llvm.ptr<3>
// CHECK: nvvm.barrier0
// CHECK: llvm.load %{{.*}} : !llvm.ptr<3> -> f16
// CHECK: llvm.store %{{.*}}, %{{.*}} : f16, !llvm.ptr<3>
// CHECK-NOT: tilus.
!swizzled = !tilus.shared<8x64xf16, #tilus.shared_layout<"shared(8,64).row_major().swizzle(3,3,3)">>
!plain = !tilus.shared<32x32xf16>
!tile = !tilus.tile<8x64xf16, #tilus.layout<"spatial(8,4).local(1,16)">>
!half = !tilus.tile<8x32xf16, #tilus.layout<"spatial(8,4).local(1,8)">>
func.func @shared(%p: !llvm.ptr<1>, %m: i32) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %g = tilus.global_view %p[%m] : !llvm.ptr<1>, i32 -> !tilus.global<?x64xf16>
  %c0 = arith.constant 0 : i32
  %c8 = arith.constant 8 : i32
  %a = tilus.alloc_shared : !swizzled
  %b = tilus.alloc_shared : !plain
  "tilus.copy_async"(%g, %c0, %c0, %a) : (!tilus.global<?x64xf16>, i32, i32, !swizzled) -> ()
  tilus.copy_async_commit
  tilus.copy_async_wait 0
  tilus.sync
  %x = tilus.load_shared %a[%c0, %c0] : !swizzled, i32, i32 -> !tile
  %h = tilus.slice %x [0, 32] : !tile -> !half
  tilus.store_shared %h, %b[%c8, %c0] : !half, !plain, i32, i32
  tilus.free_shared %a : !swizzled
  tilus.free_shared %b : !plain
  return
}
