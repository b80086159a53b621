// A .mlir kernel has no parameter names or tensor shapes for the host, so
// the interpreter cannot make its inputs.
// RUN: not tilusc %s --interpret 2>&1 | FileCheck %s
// CHECK: tilusc: error: the interpreter needs the kernels' parameter names and shapes, which only a .tl source gives
func.func @copy(%p: !llvm.ptr<1>, %n: i32)
    attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.global_view %p[%n] : !llvm.ptr<1>, i32 -> !tilus.global<?xf32>
  return
}
