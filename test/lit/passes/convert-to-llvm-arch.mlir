// RUN: tilus-opt %s --tilus-plan-shared-memory '--tilus-convert-to-llvm=arch=sm_90a' | FileCheck %s --check-prefix=SM90
// RUN: tilus-opt %s --tilus-plan-shared-memory --tilus-convert-to-llvm | FileCheck %s --check-prefix=SM80
// RUN: not tilus-opt %s --tilus-plan-shared-memory '--tilus-convert-to-llvm=arch=sm_70' 2>&1 | FileCheck %s --check-prefix=ARCH
// The arch option decides which instructions the lowering may select: a
// store_shared in the stmatrix.x4 atom's layout is one inline-PTX stmatrix
// on sm_90a and element stores on the default sm_80.

// ARCH: error: unknown architecture 'sm_70'; expected one of sm_80, sm_86, sm_89, sm_90, sm_90a

// SM90-LABEL: llvm.func @store
// SM90: llvm.inline_asm has_side_effects "stmatrix.sync.aligned.m8n8.x4.shared.b16 [$0], {$1, $2, $3, $4};", "l,r,r,r,r"
// SM90-NOT: llvm.store
// SM80-LABEL: llvm.func @store
// SM80-NOT: stmatrix
// SM80: llvm.store %{{.*}}, %{{.*}} : f16, !llvm.ptr<3>
!tile = !tilus.tile<16x16xf16, #tilus.layout<"column_local(2,2).spatial(8,4).local(1,2)">>
!shared = !tilus.shared<16x16xf16>
func.func @store(%p: !llvm.ptr<1>) attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %zero = arith.constant 0.0 : f16
  %z = tilus.full %zero : f16 -> !tile
  %s = tilus.alloc_shared : !shared
  tilus.store_shared %z, %s[%c0, %c0] : !tile, !shared, i32, i32
  return
}
