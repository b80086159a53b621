/*===- tilus.h - C API of the tilus runtime, for FFI -------------*- C -*-===*\
|*                                                                            *|
|* The functions of libtilus, for ctypes, cffi and other foreign function     *|
|* interfaces. Every function that can fail returns 0 on success and -1 on    *|
|* failure; tilus_last_error() then gives the message and                    *|
|* tilus_last_error_code() its kind (per thread, valid until the next call).  *|
|* Nothing here aborts, exits or throws: bad arguments                        *|
|* (a null pointer, a negative count) and failures of the library below (out  *|
|* of host memory included) are returned as -1 with a message.                *|
|*                                                                            *|
|*   tilus_device *dev;  tilus_kernel *k;                                     *|
|*   tilus_device_create("emu", &dev);                                        *|
|*   tilus_compile_file(dev, "vector_add.tl", NULL, 0, NULL, &k);             *|
|*   tilus_arg args[4] = {{TILUS_ARG_BUFFER, "f32", a, 4 * n}, ...};          *|
|*   if (tilus_launch(k, args, 4, 0, NULL)) puts(tilus_last_error());         *|
|*                                                                            *|
\*===----------------------------------------------------------------------===*/

#ifndef TILUS_TILUS_H
#define TILUS_TILUS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct tilus_device tilus_device;
typedef struct tilus_kernel tilus_kernel;

/** What kind of failure a call reported, beside its message. */
typedef enum tilus_error_code {
  TILUS_SUCCESS = 0,
  /** A null pointer, a negative count, an unknown type or GPU name, a value
   * that does not fit, arguments that do not match the kernel's signature. */
  TILUS_ERROR_INVALID_ARGUMENT = 1,
  /** The device cannot be created: no NVIDIA driver, no such GPU, an
   * unknown device name. */
  TILUS_ERROR_NO_DEVICE = 2,
  /** This libtilus is the runtime core, built without the compiler. */
  TILUS_ERROR_NO_COMPILER = 3,
  /** The source does not compile; the message holds the diagnostics. */
  TILUS_ERROR_COMPILE = 4,
  /** Precompiled PTX, a cubin or its metadata cannot be loaded. */
  TILUS_ERROR_LOAD = 5,
  /** A failure on the device: allocation, copy, launch, synchronization
   * (the emulator's sanitizer reports included). */
  TILUS_ERROR_DEVICE = 6,
  TILUS_ERROR_OUT_OF_HOST_MEMORY = 7,
  /** A failure inside the library (a bug): please report the message. */
  TILUS_ERROR_INTERNAL = 8
} tilus_error_code;

/** The message of the calling thread's last failure ("" if none). */
const char *tilus_last_error(void);
/** The tilus_error_code of the calling thread's last failure (TILUS_SUCCESS
 * after a call that succeeded). New codes may be added: treat an unknown
 * one as a failure. */
int tilus_last_error_code(void);
/** "0.1.0 (commit ...)". */
const char *tilus_version(void);
/** 1 when this library can compile .tl source (built with the compiler). */
int tilus_has_compiler(void);

/* Devices: "emu", "cuda", "cuda:N", or NULL/"" for TILUS_DEVICE or the
 * default (cuda when a GPU is present, else emu). */
int tilus_device_create(const char *name, tilus_device **out);
/** Destroys the device and frees what tilus_malloc gave on it. Destroy its
 * kernels first: a kernel refers to its device. */
void tilus_device_destroy(tilus_device *device);
/** "emu" or "cuda"; owned by the device. */
const char *tilus_device_name(tilus_device *device);
const char *tilus_device_description(tilus_device *device);
/** The architecture kernels are compiled for, e.g. "sm_80". */
const char *tilus_device_arch(tilus_device *device);

/* Profiling (docs/profiling.md). On the emu device, counts what each later
 * launch does; sample_ctas > 0 runs only that many CTAs of each grid and
 * scales the counts. Fails on a GPU device (it has no counters). */
int tilus_device_enable_profiling(tilus_device *device, int on,
                                  int sample_ctas);
/** The last launch's profile as one JSON object (counters exact, times
 * modelled on `gpus`: comma-separated names, NULL or "" for every known
 * GPU); owned by the device, valid until the next call. */
int tilus_device_last_profile(tilus_device *device, const char *gpus,
                              const char **json);

/* Memory. Device addresses are 64-bit integers (on cuda, CUdeviceptr; a
 * PyTorch tensor's data_ptr() is one). */
int tilus_malloc(tilus_device *device, uint64_t bytes, uint64_t *out);
int tilus_free(tilus_device *device, uint64_t ptr);
int tilus_memcpy_htod(tilus_device *device, uint64_t dst, const void *src,
                      uint64_t bytes);
int tilus_memcpy_dtoh(tilus_device *device, void *dst, uint64_t src,
                      uint64_t bytes);
int tilus_synchronize(tilus_device *device, uint64_t stream);

/* Kernels. `defines` holds `ndefines` strings "NAME=VALUE" (compile-time
 * parameters); `kernel_name` NULL or "" picks the only (first) kernel. */
int tilus_compile(tilus_device *device, const char *source,
                  const char *filename, const char *const *defines,
                  int ndefines, const char *kernel_name, tilus_kernel **out);
int tilus_compile_file(tilus_device *device, const char *path,
                       const char *const *defines, int ndefines,
                       const char *kernel_name, tilus_kernel **out);
/** Loads precompiled PTX or cubin (`size` bytes) with the metadata JSON that
 * `tilusc --metadata` writes. */
int tilus_load(tilus_device *device, const void *image, size_t size,
               const char *metadata_json, const char *kernel_name,
               tilus_kernel **out);
/** Destroys a kernel (before its device); the strings it returned go with
 * it. */
void tilus_kernel_destroy(tilus_kernel *kernel);
/** The kernel's metadata (parameters with dtypes, shapes, divisibility;
 * grid formula; threads; shared memory; target) as JSON, owned by it. */
const char *tilus_kernel_info(tilus_kernel *kernel);

typedef enum {
  TILUS_ARG_BUFFER = 0,
  TILUS_ARG_INT = 1,
  TILUS_ARG_FLOAT = 2
} tilus_arg_kind;

/* Room to grow: the structs below end in `reserved` fields that later
 * versions may give a meaning without changing the structs' size or the
 * place of any field, so a program built against this header keeps working
 * with a later library. Zero-initialise them (`tilus_arg a = {0};` or a
 * braced list that leaves them out): a tilus_arg whose reserved fields are
 * not zero is refused (TILUS_ERROR_INVALID_ARGUMENT), and the library writes
 * zeros into those of tilus_launch_stats. */

/** One launch argument. `dtype` may be NULL (not checked); `bytes` 0 means
 * the buffer's size is unknown (not checked). */
typedef struct {
  int32_t kind; /* tilus_arg_kind */
  const char *dtype;
  uint64_t ptr;
  uint64_t bytes;
  int64_t int_value;
  double float_value;
  uint64_t reserved[2]; /* zero */
} tilus_arg;

typedef struct {
  double milliseconds;
  uint64_t warp_instructions;
  uint64_t reserved[6]; /* written as zero */
} tilus_launch_stats;

/** Checks the arguments against the kernel's signature, computes the grid
 * and launches on `stream` (a CUstream; 0 for the default stream). With
 * `stats`, waits for the kernel and measures it. */
int tilus_launch(tilus_kernel *kernel, const tilus_arg *args, int nargs,
                 uint64_t stream, tilus_launch_stats *stats);
/** The grid the arguments give, without launching. */
int tilus_kernel_grid(tilus_kernel *kernel, const tilus_arg *args, int nargs,
                      uint32_t grid[3]);

/* Autotuning (tilus/Autotune.h, docs/python.md): one source compiled once
 * per configuration, in parallel; the fastest variant launched. Which is
 * fastest is decided once per key bucket (the `key` parameters' values, each
 * rounded up to a power of two): on a GPU by CUDA events, on the emulator by
 * the performance model's time on one GPU. Trials run on scratch copies of
 * the buffers the kernel may write; choices are kept in memory and on disk
 * beside the kernel cache. */
typedef struct tilus_autotuner tilus_autotuner;
/** `configs`: `nconfigs` strings "NAME=VALUE,NAME=VALUE" added to
 * `defines`; `key`: comma-separated integer scalar parameter names (NULL or
 * "" for one bucket); `options`: NULL or comma-separated settings "gpu=H100"
 * (the emulator's model), "sample_ctas=N", "warmup=N", "reps=N",
 * "kernel=NAME", "cache=0" (no disk). Fails when no configuration
 * compiles. */
int tilus_autotune_create(tilus_device *device, const char *source,
                          const char *filename, const char *const *defines,
                          int ndefines, const char *const *configs,
                          int nconfigs, const char *key, const char *options,
                          tilus_autotuner **out);
/** Destroys the tuner and its kernels (before the device). */
void tilus_autotune_destroy(tilus_autotuner *tuner);
/** Configuration `index`'s kernel, owned by the tuner; fails with the
 * compiler's message when that configuration did not compile. */
int tilus_autotune_kernel(tilus_autotuner *tuner, int index,
                          tilus_kernel **out);
/** The choice for the arguments' bucket (tuning now when it is new) as JSON:
 * {"bucket", "index", "config", "basis": "measured" | "modelled GPU" |
 * "cache", "trials": [{"config", "time_us", "error"}]}; owned by the tuner,
 * valid until the next call. */
int tilus_autotune_choose(tilus_autotuner *tuner, const tilus_arg *args,
                          int nargs, const char **json);
/** tilus_autotune_choose, then tilus_launch of the chosen kernel. */
int tilus_autotune_launch(tilus_autotuner *tuner, const tilus_arg *args,
                          int nargs, uint64_t stream,
                          tilus_launch_stats *stats);

/* Low-bit data. */
/** Codes of `values` in `dtype` (round to nearest even, saturating). */
int tilus_encode(const char *dtype, const double *values, size_t count,
                 uint64_t *codes);
int tilus_decode(const char *dtype, const uint64_t *codes, size_t count,
                 double *values);
/** Bytes `count` elements of `dtype` occupy densely packed. */
int tilus_packed_size(const char *dtype, uint64_t count, uint64_t *out);
/** Packs codes LSB-first: element i occupies bits [i*n, (i+1)*n). */
int tilus_pack(const char *dtype, const uint64_t *codes, size_t count,
               uint8_t *out);
int tilus_unpack(const char *dtype, const uint8_t *in, size_t count,
                 uint64_t *codes);

/* The low-precision matmul (examples/matmul_a16wx.tl, docs/matmul.md). */
/** The block tile and split-K the configuration table gives an M x N x K
 * problem with `bits`-bit weights in groups of `group` rows:
 * tile = {BM, BN, BK, SPLITK}. */
int tilus_matmul_config(int64_t m, int64_t n, int64_t k, int bits,
                        int64_t group, int64_t tile[4]);
/** The source of examples/matmul_a16wx.tl as built into the library (for
 * tilus_compile with its parameters W, T, G, ZP, BM, BN, BK, SPLITK); NULL
 * in a library built without the compiler. */
const char *tilus_matmul_source(void);
/** Packs `codes` (K x N, one code per byte) into `out` (K * N * bits / 8
 * bytes) in the kernel's weight layout for tiles `bn` x `bk`. */
int tilus_pack_weights(const uint8_t *codes, int64_t k, int64_t n, int bits,
                       int64_t bn, int64_t bk, uint8_t *out);

#ifdef __cplusplus
}
#endif

#endif /* TILUS_TILUS_H */
