// REQUIRES: ptxas
// RUN: tilusc %s --arch=sm_80 -o %t.moves.sm80.ptx
// RUN: %ptxas -arch=sm_80 %t.moves.sm80.ptx -o %t.moves.sm80.cubin
// RUN: tilusc %s --arch=sm_90a -o %t.moves.sm90a.ptx
// RUN: %ptxas -arch=sm_90a %t.moves.sm90a.ptx -o %t.moves.sm90a.cubin
// RUN: tilusc %S/shared-ptx.mlir --arch=sm_80 -o %t.groups.ptx
// RUN: %ptxas -arch=sm_80 %t.groups.ptx -o %t.groups.cubin
// RUN: tilusc %S/../e2e/Inputs/shared_copy_async.mlir --arch=sm_80 -o %t.copy.ptx
// RUN: %ptxas -arch=sm_80 %t.copy.ptx -o %t.copy.cubin
// RUN: tilusc %S/../e2e/Inputs/shared_copy_async.mlir --arch=sm_90a -o %t.copy.sm90a.ptx
// RUN: %ptxas -arch=sm_90a %t.copy.sm90a.ptx -o %t.copy.sm90a.cubin
// RUN: tilusc %S/../e2e/Inputs/shared_pipeline.mlir --arch=sm_80 -o %t.pipeline.ptx
// RUN: %ptxas -arch=sm_80 %t.pipeline.ptx -o %t.pipeline.cubin
// RUN: tilusc %S/../e2e/Inputs/shared_transpose.mlir --arch=sm_80 -o %t.transpose.ptx
// RUN: %ptxas -arch=sm_80 %t.transpose.ptx -o %t.transpose.cubin
// ptxas accepts the PTX of shared tensors, cp.async (4 and 16 bytes, with
// source sizes), barriers and layout movement through scratch memory.
!rows = !tilus.tile<32x64xf16, #tilus.layout<"local(2,1).spatial(16,8).local(1,8)">>
!cols = !tilus.tile<32x64xf16, #tilus.layout<"spatial(32,4).local(1,16)">>
!reduced = !tilus.tile<32x1xf16, #tilus.layout<"spatial(32,1).replicate(4)">>
!index = !tilus.tile<32x64xi32, #tilus.layout<"spatial(32,4).local(1,16)">>
func.func @moves(%pa: !llvm.ptr<1>, %pb: !llvm.ptr<1>, %pi: !llvm.ptr<1>) attributes {tilus.kernel, tilus.num_warps = 4 : i32, tilus.grid = ["1", "1", "1"]} {
  %a = tilus.global_view %pa[] : !llvm.ptr<1> -> !tilus.global<32x64xf16>
  %b = tilus.global_view %pb[] : !llvm.ptr<1> -> !tilus.global<32x1xf16>
  %i = tilus.global_view %pi[] : !llvm.ptr<1> -> !tilus.global<32x64xi32>
  %c0 = arith.constant 0 : i32
  %x = tilus.load_global %a[%c0, %c0] : !tilus.global<32x64xf16>, i32, i32 -> !rows
  %y = tilus.convert_layout %x : !rows -> !cols
  %r = tilus.load_global %b[%c0, %c0] : !tilus.global<32x1xf16>, i32, i32 -> !reduced
  %s = tilus.broadcast %r : !reduced -> !rows
  %t = tilus.convert_layout %s : !rows -> !cols
  %z = tilus.add %y, %t : !cols
  tilus.store_global %z, %a[%c0, %c0] : !cols, !tilus.global<32x64xf16>, i32, i32
  %n = tilus.arange 1 : !index
  tilus.store_global %n, %i[%c0, %c0] : !index, !tilus.global<32x64xi32>, i32, i32
  return
}
