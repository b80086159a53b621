// RUN: tilusc %s -o %t.ptx
// RUN: FileCheck %s < %t.ptx
// The special functions are single PTX .approx instructions (exp and log
// scale by log2(e) and ln(2) around ex2/lg2); sqrt is correctly rounded;
// round/floor/ceil are cvt to an integral float; f16 computes in f32.

// CHECK-LABEL: .entry special(
// CHECK-DAG: mul{{(.rn)?}}.f32 {{.*}}0f3FB8AA3B
// CHECK-DAG: ex2.approx.f32
// CHECK-DAG: lg2.approx.f32
// CHECK-DAG: mul{{(.rn)?}}.f32 {{.*}}0f3F317218
// CHECK-DAG: sqrt.rn.f32
// CHECK-DAG: rsqrt.approx.f32
// CHECK-DAG: tanh.approx.f32
// CHECK-DAG: sin.approx.f32
// CHECK-DAG: cos.approx.f32
// CHECK-DAG: cvt.rni.f32.f32
// CHECK-DAG: cvt.rmi.f32.f32
// CHECK-DAG: cvt.rpi.f32.f32
// CHECK-DAG: cvt.f32.f16
// CHECK-DAG: cvt.rn.f16.f32
!t = !tilus.tile<64xf32, #tilus.layout<"spatial(32).local(2)">>
!h = !tilus.tile<64xf16, #tilus.layout<"spatial(32).local(2)">>
func.func @special(%p: !llvm.ptr<1>, %q: !llvm.ptr<1>)
    attributes {tilus.kernel, tilus.num_warps = 1 : i32, tilus.grid = ["1", "1", "1"]} {
  %c0 = arith.constant 0 : i32
  %g = tilus.global_view %p[] : !llvm.ptr<1> -> !tilus.global<64xf32>
  %x = tilus.load_global %g[%c0] : !tilus.global<64xf32>, i32 -> !t
  %0 = tilus.unary exp %x : !t
  %1 = tilus.unary log %0 : !t
  %2 = tilus.unary exp2 %1 : !t
  %3 = tilus.unary log2 %2 : !t
  %4 = tilus.unary sqrt %3 : !t
  %5 = tilus.unary rsqrt %4 : !t
  %6 = tilus.unary tanh %5 : !t
  %7 = tilus.unary sin %6 : !t
  %8 = tilus.unary cos %7 : !t
  %9 = tilus.unary round %8 : !t
  %10 = tilus.unary floor %9 : !t
  %11 = tilus.unary ceil %10 : !t
  tilus.store_global %11, %g[%c0] : !t, !tilus.global<64xf32>, i32
  %gh = tilus.global_view %q[] : !llvm.ptr<1> -> !tilus.global<64xf16>
  %y = tilus.load_global %gh[%c0] : !tilus.global<64xf16>, i32 -> !h
  %e = tilus.unary exp %y : !h
  tilus.store_global %e, %gh[%c0] : !h, !tilus.global<64xf16>, i32
  return
}
