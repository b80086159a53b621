// RUN: tilus-opt %s -split-input-file -verify-diagnostics

// The width is a power of two.
func.func @not_power_of_two(%g: !tilus.global<?xf32>, %o: i32) {
  // expected-error @below {{'tilus.vector' expects a positive power of two, got 3 : i64}}
  %x = tilus.load_global %g[%o] {tilus.vector = 3 : i64} : !tilus.global<?xf32>, i32 -> !tilus.tile<128xf32, #tilus.layout<"spatial(32).local(4)">>
  return
}

// -----

// A run must lie inside the layout's run of consecutive elements.
func.func @wider_than_contiguity(%g: !tilus.global<?xf32>, %o: i32, %t: !tilus.tile<128xf32, #tilus.layout<"local(2).spatial(32).local(2)">>) {
  // expected-error @below {{'tilus.vector' of 4 does not divide the layout's innermost contiguity 2}}
  tilus.store_global %t, %g[%o] {tilus.vector = 4 : i64} : !tilus.tile<128xf32, #tilus.layout<"local(2).spatial(32).local(2)">>, !tilus.global<?xf32>, i32
  return
}

// -----

// Only global transfers and copies carry a width.
func.func @wrong_op(%x: i32) {
  // expected-error @below {{'tilus.vector' expects to be on a tilus.load_global, tilus.store_global or tilus.copy_async}}
  %y = arith.addi %x, %x {tilus.vector = 4 : i64} : i32
  return
}

// -----

// A copy's width is a power of two too.
func.func @copy_not_power_of_two(%g: !tilus.global<?x?xf16>, %o: i32, %s: !tilus.shared<16x32xf16>) {
  // expected-error @below {{'tilus.vector' expects a positive power of two, got 6 : i64}}
  tilus.copy_async %g[%o, %o], %s {tilus.vector = 6 : i64} : !tilus.global<?x?xf16>, !tilus.shared<16x32xf16>, i32, i32
  return
}

// -----

// A valid width round-trips.
func.func @valid(%g: !tilus.global<?xf32>, %o: i32) -> !tilus.tile<128xf32, #tilus.layout<"spatial(32).local(4)">> {
  %x = tilus.load_global %g[%o] {tilus.vector = 4 : i64} : !tilus.global<?xf32>, i32 -> !tilus.tile<128xf32, #tilus.layout<"spatial(32).local(4)">>
  return %x : !tilus.tile<128xf32, #tilus.layout<"spatial(32).local(4)">>
}

// -----

// A copy has no register layout to bound its width.
func.func @valid_copy(%g: !tilus.global<?x?xf16>, %o: i32, %s: !tilus.shared<16x32xf16>) {
  tilus.copy_async %g[%o, %o], %s {tilus.vector = 8 : i64} : !tilus.global<?x?xf16>, !tilus.shared<16x32xf16>, i32, i32
  return
}
