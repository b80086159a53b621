// RUN: tilusc %s --emit=ptx | FileCheck %s
// RUN: tilusc %s --emit=tilus | FileCheck %s --check-prefix=TILUS
// RUN: not tilusc %s --emit=ast 2>&1 | FileCheck %s --check-prefix=AST
// tilusc also compiles kernels written directly in the tilus dialect.

// CHECK: .visible .entry copy(
// CHECK: .maxntid 64, 1, 1
// CHECK: ld.global.f32
// TILUS: func.func @copy
// AST: error: --emit=ast needs a .tl source
func.func @copy(%p: !llvm.ptr<1>, %n: i32)
    attributes {tilus.kernel, tilus.num_warps = 2 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.global_view %p[%n] : !llvm.ptr<1>, i32 -> !tilus.global<?xf32>
  %bx = tilus.block_idx 0 : i32
  %x = tilus.load_global %a[%bx] : !tilus.global<?xf32>, i32 -> !tilus.tile<128xf32, #tilus.layout<"local(2).spatial(64)">>
  tilus.store_global %x, %a[%bx] : !tilus.tile<128xf32, #tilus.layout<"local(2).spatial(64)">>, !tilus.global<?xf32>, i32
  return
}
