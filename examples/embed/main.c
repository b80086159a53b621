/*===- main.c - The tilus C API from C ------------------------------------===*\
|*                                                                            *|
|*   embed_c KERNEL.tl [DEVICE]                                               *|
|*                                                                            *|
|* Compiles vector_add through the C API (what FFI bindings call), runs it on *|
|* DEVICE (default: emu) and checks every element against the host.          *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#include "tilus/tilus.h"

#include <stdio.h>
#include <stdlib.h>

static int fail(const char *what) {
  fprintf(stderr, "embed_c: error: %s: %s\n", what, tilus_last_error());
  return 1;
}

int main(int argc, char **argv) {
  enum { N = 3001 };
  static float a[N], b[N], c[N];
  tilus_device *dev = NULL;
  tilus_kernel *kernel = NULL;
  const char *defines[] = {"BLOCK=512"};
  uint64_t da, db, dc;
  int i;

  if (argc < 2) {
    fprintf(stderr, "usage: embed_c KERNEL.tl [DEVICE]\n");
    return 1;
  }
  if (tilus_device_create(argc > 2 ? argv[2] : "emu", &dev))
    return fail("device");
  if (tilus_compile_file(dev, argv[1], defines, 1, NULL, &kernel))
    return fail("compile");
  srand(7);
  for (i = 0; i < N; ++i) {
    a[i] = (float)rand() / RAND_MAX - 0.5f;
    b[i] = (float)rand() / RAND_MAX * 100.0f;
  }
  if (tilus_malloc(dev, sizeof a, &da) || tilus_malloc(dev, sizeof b, &db) ||
      tilus_malloc(dev, sizeof c, &dc))
    return fail("malloc");
  if (tilus_memcpy_htod(dev, da, a, sizeof a) ||
      tilus_memcpy_htod(dev, db, b, sizeof b))
    return fail("copy");
  {
    tilus_arg args[4] = {
        {TILUS_ARG_BUFFER, "f32", da, sizeof a, 0, 0},
        {TILUS_ARG_BUFFER, "f32", db, sizeof b, 0, 0},
        {TILUS_ARG_BUFFER, "f32", dc, sizeof c, 0, 0},
        {TILUS_ARG_INT, "i32", 0, 0, N, 0},
    };
    /* A wrong argument count is an error value, not a crash. */
    if (tilus_launch(kernel, args, 3, 0, NULL) == 0)
      return fail("a launch with 3 arguments succeeded");
    printf("embed_c: %s\n", tilus_last_error());
    if (tilus_launch(kernel, args, 4, 0, NULL))
      return fail("launch");
  }
  if (tilus_memcpy_dtoh(dev, c, dc, sizeof c))
    return fail("copy back");
  for (i = 0; i < N; ++i)
    if (c[i] != a[i] + b[i]) {
      fprintf(stderr, "embed_c: element %d is wrong\n", i);
      return 1;
    }
  printf("embed_c: vector_add on %s: %d elements match the host\n",
         tilus_device_name(dev), N);
  tilus_free(dev, da);
  tilus_free(dev, db);
  tilus_free(dev, dc);
  tilus_kernel_destroy(kernel);
  tilus_device_destroy(dev);
  return 0;
}
