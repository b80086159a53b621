// A 4x8 f32 tile held twice (replicated over the two warps), a 2x4 i4 tile
// with replicated lanes, and two scalars.
func.func @print_kernel(%p: !llvm.ptr<1>, %q: !llvm.ptr<1>, %n: i32)
    attributes {tilus.kernel, tilus.num_warps = 2 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<4x8xf32>
  %x = tilus.load_global %g[%c0, %c0] : !tilus.global<4x8xf32>, i32, i32 -> !tilus.tile<4x8xf32, #tilus.layout<"layout(shape=[4,8], modes=[4,8], spatial=[-2,0,1], local=[])">>
  tilus.print "x" %x : !tilus.tile<4x8xf32, #tilus.layout<"layout(shape=[4,8], modes=[4,8], spatial=[-2,0,1], local=[])">>
  %h = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<2x4x!tilus.i4>
  %y = tilus.load_global %h[%c0, %c0] : !tilus.global<2x4x!tilus.i4>, i32, i32 -> !tilus.tile<2x4x!tilus.i4, #tilus.layout<"layout(shape=[2,4], modes=[2,2,2], spatial=[0,-32], local=[1,2])">>
  tilus.print "w%" %y : !tilus.tile<2x4x!tilus.i4, #tilus.layout<"layout(shape=[2,4], modes=[2,2,2], spatial=[0,-32], local=[1,2])">>
  tilus.print "n" %n : i32
  %f = arith.constant 2.5 : f32
  tilus.print "f" %f : f32
  return
}
