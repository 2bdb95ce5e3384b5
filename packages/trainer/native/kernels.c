/*
 * Fused kernels of the trainer's transformer for the TensorFlow.js wasm backend: RMSNorm,
 * SwiGLU, q/k RMSNorm with rotary embedding, and causal attention with left padding, each with
 * its gradient. They read and write float32 data in place in the wasm heap (addresses passed by
 * the caller) and split their work across a small pool of threads.
 *
 * Determinism: work is cut into chunks whose boundaries depend only on the shapes, every chunk
 * writes its own outputs, and sums across chunks (the gain gradients) are added in chunk order
 * by the caller's thread. Results are therefore the same bits whatever the thread count and
 * whichever thread runs which chunk.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Thread pool: the caller and up to MAX_THREADS - 1 workers claim chunks from one counter.    */

#define MAX_THREADS 16
#define SPIN_LIMIT 4000

typedef void (*chunk_fn)(void *ctx, int64_t chunk);

static int pool_size = 1;
static int workers_started = 0;
static pthread_mutex_t pool_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pool_wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t pool_done = PTHREAD_COND_INITIALIZER;
/* generation (16 bits) | chunk count (24 bits) | next chunk (24 bits) */
static _Atomic uint64_t cursor = 0;
static atomic_int remaining = 0;
static atomic_int sleepers = 0;
static chunk_fn job_fn;
static void *job_ctx;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  __asm__ __volatile__("yield");
#endif
}

/* Claims and runs chunks of the current job until none is left. */
static void run_chunks(void) {
  uint64_t c = atomic_load_explicit(&cursor, memory_order_acquire);
  for (;;) {
    uint64_t count = (c >> 24) & 0xFFFFFF;
    uint64_t next = c & 0xFFFFFF;
    if (next >= count) return;
    if (atomic_compare_exchange_weak_explicit(&cursor, &c, c + 1, memory_order_acq_rel, memory_order_acquire)) {
      job_fn(job_ctx, (int64_t)next);
      if (atomic_fetch_sub_explicit(&remaining, 1, memory_order_acq_rel) == 1) {
        pthread_mutex_lock(&pool_mutex);
        pthread_cond_broadcast(&pool_done);
        pthread_mutex_unlock(&pool_mutex);
      }
      c = atomic_load_explicit(&cursor, memory_order_acquire);
    }
  }
}

static void *worker_main(void *arg) {
  (void)arg;
  uint64_t seen = atomic_load(&cursor) >> 48;
  for (;;) {
    int spins = 0;
    uint64_t gen;
    while ((gen = atomic_load_explicit(&cursor, memory_order_acquire) >> 48) == seen) {
      if (++spins < SPIN_LIMIT) {
        cpu_relax();
        continue;
      }
      pthread_mutex_lock(&pool_mutex);
      atomic_fetch_add(&sleepers, 1);
      while ((gen = atomic_load(&cursor) >> 48) == seen) pthread_cond_wait(&pool_wake, &pool_mutex);
      atomic_fetch_sub(&sleepers, 1);
      pthread_mutex_unlock(&pool_mutex);
      break;
    }
    seen = gen;
    run_chunks();
  }
  return NULL;
}

/** Threads the kernels use, the caller's included (1 runs everything on the caller). */
int icrl_set_threads(int threads) {
  if (threads < 1) threads = 1;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  while (workers_started < threads - 1) {
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int failed = pthread_create(&thread, &attr, worker_main, NULL);
    pthread_attr_destroy(&attr);
    if (failed) break;
    workers_started++;
  }
  pool_size = workers_started + 1 < threads ? workers_started + 1 : threads;
  return pool_size;
}

int icrl_threads(void) { return pool_size; }

/*
 * Jobs of fewer chunks run on the caller alone: waking a sleeping worker (a halted virtual CPU,
 * or one running another process) took about 100 us here, ten times a small job's whole time
 * (a decoding step's SwiGLU: 10 us alone, 117 us with a worker woken for it).
 */
#define MIN_PARALLEL_CHUNKS 8

/* Runs fn(ctx, i) for every chunk i < chunks, on the pool. */
static void parallel(int64_t chunks, chunk_fn fn, void *ctx) {
  if (chunks <= 0) return;
  if (pool_size == 1 || chunks < MIN_PARALLEL_CHUNKS || chunks > 0xFFFFFF) {
    for (int64_t i = 0; i < chunks; i++) fn(ctx, i);
    return;
  }
  job_fn = fn;
  job_ctx = ctx;
  atomic_store(&remaining, (int)chunks);
  uint64_t gen = ((atomic_load(&cursor) >> 48) + 1) & 0xFFFF;
  atomic_store(&cursor, (gen << 48) | ((uint64_t)chunks << 24));
  if (atomic_load(&sleepers) > 0) {
    pthread_mutex_lock(&pool_mutex);
    pthread_cond_broadcast(&pool_wake);
    pthread_mutex_unlock(&pool_mutex);
  }
  run_chunks();
  int spins = 0;
  while (atomic_load_explicit(&remaining, memory_order_acquire) > 0) {
    if (++spins < SPIN_LIMIT * 4) {
      cpu_relax();
      continue;
    }
    pthread_mutex_lock(&pool_mutex);
    while (atomic_load(&remaining) > 0) pthread_cond_wait(&pool_done, &pool_mutex);
    pthread_mutex_unlock(&pool_mutex);
  }
}

/* Chunks of about `work` units each (at least one item per chunk). */
static int64_t chunk_items(int64_t items, int64_t cost_per_item, int64_t work) {
  int64_t per = cost_per_item > 0 ? work / cost_per_item : items;
  if (per < 1) per = 1;
  return per;
}

#define CHUNK_WORK 16384

/* ------------------------------------------------------------------------------------------ */
/* Vector helpers with a fixed summation order (16 lanes, then the lanes in order).            */

static inline float dot(const float *restrict a, const float *restrict b, int64_t n) {
  float lane[16] = {0};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; j++) lane[j] += a[i + j] * b[i + j];
  float s = 0;
  for (int j = 0; j < 16; j++) s += lane[j];
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

static inline float sum(const float *restrict a, int64_t n) {
  float lane[16] = {0};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int j = 0; j < 16; j++) lane[j] += a[i + j];
  float s = 0;
  for (int j = 0; j < 16; j++) s += lane[j];
  for (; i < n; i++) s += a[i];
  return s;
}

/* Sixteen floats as one value (GCC/Clang vector extension; unaligned loads and stores). */
typedef float v16 __attribute__((vector_size(64), aligned(4)));

static inline v16 load16(const float *p) {
  v16 v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline void store16(float *p, v16 v) { memcpy(p, &v, sizeof v); }

/* The dot product by 16-lane partial sums reduced as a tree (log2 16 shuffles): short vectors
   (a decoding query against each cached key) do not wait on 16 dependent scalar adds. */
static inline float dot_tree(const float *restrict a, const float *restrict b, int64_t n) {
  v16 acc = {0};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16) acc += load16(a + i) * load16(b + i);
  typedef float v8 __attribute__((vector_size(32), aligned(4)));
  typedef float v4 __attribute__((vector_size(16), aligned(4)));
  v8 h8 = __builtin_shufflevector(acc, acc, 0, 1, 2, 3, 4, 5, 6, 7) + __builtin_shufflevector(acc, acc, 8, 9, 10, 11, 12, 13, 14, 15);
  v4 h4 = __builtin_shufflevector(h8, h8, 0, 1, 2, 3) + __builtin_shufflevector(h8, h8, 4, 5, 6, 7);
  float s = (h4[0] + h4[2]) + (h4[1] + h4[3]);
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

/* exp(x) to about 1 ulp (Cody-Waite reduction, degree-6 polynomial); vectorizes. */
static inline float exp_fast(float x) {
  x = x < -87.33654f ? -87.33654f : x;
  x = x > 88.37626f ? 88.37626f : x;
  const float shifter = 12582912.0f; /* 1.5 * 2^23: adding it rounds to an integer */
  float t = x * 1.44269504088896341f + shifter;
  float n = t - shifter;
  float r = x - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  float y = p * r * r + r + 1.0f;
  int32_t bits;
  memcpy(&bits, &t, 4);
  int32_t shifterBits;
  memcpy(&shifterBits, &shifter, 4);
  int32_t e = (bits - shifterBits + 127) << 23;
  float scale;
  memcpy(&scale, &e, 4);
  return y * scale;
}

static inline float sigmoid_fast(float x) { return 1.0f / (1.0f + exp_fast(-x)); }

/* ------------------------------------------------------------------------------------------ */
/* RMSNorm: y = x * r * g, r = 1 / sqrt(mean(x^2) + eps), rows of width d.                     */

typedef struct {
  const float *x, *g, *dy, *r_in;
  float *y, *r, *dx, *partial;
  int64_t rows, d, per;
  float eps;
} norm_job;

static void norm_forward_chunk(void *ctx, int64_t chunk) {
  norm_job *j = ctx;
  int64_t end = (chunk + 1) * j->per < j->rows ? (chunk + 1) * j->per : j->rows;
  for (int64_t n = chunk * j->per; n < end; n++) {
    const float *x = j->x + n * j->d;
    float *y = j->y + n * j->d;
    float r = 1.0f / sqrtf(dot(x, x, j->d) / (float)j->d + j->eps);
    if (j->r) j->r[n] = r;
    for (int64_t i = 0; i < j->d; i++) y[i] = x[i] * r * j->g[i];
  }
}

void icrl_rmsnorm(const float *x, const float *g, float *y, float *r, int64_t rows, int64_t d, float eps) {
  norm_job j = {.x = x, .g = g, .y = y, .r = r, .rows = rows, .d = d, .eps = eps};
  j.per = chunk_items(rows, d, CHUNK_WORK);
  parallel((rows + j.per - 1) / j.per, norm_forward_chunk, &j);
}

static void norm_backward_chunk(void *ctx, int64_t chunk) {
  norm_job *j = ctx;
  int64_t d = j->d;
  float *dg = j->partial + chunk * d;
  memset(dg, 0, (size_t)d * sizeof(float));
  int64_t end = (chunk + 1) * j->per < j->rows ? (chunk + 1) * j->per : j->rows;
  for (int64_t n = chunk * j->per; n < end; n++) {
    const float *x = j->x + n * d, *dy = j->dy + n * d;
    float *dx = j->dx + n * d;
    float r = j->r_in[n];
    float lane[16] = {0};
    int64_t i = 0;
    for (; i + 16 <= d; i += 16)
      for (int l = 0; l < 16; l++) lane[l] += dy[i + l] * j->g[i + l] * x[i + l];
    float s = 0;
    for (int l = 0; l < 16; l++) s += lane[l];
    for (; i < d; i++) s += dy[i] * j->g[i] * x[i];
    /* mean(dxn * xn) with xn = x * r */
    float m = s * r / (float)d;
    for (i = 0; i < d; i++) {
      float xn = x[i] * r;
      dg[i] += dy[i] * xn;
      dx[i] = (dy[i] * j->g[i] - xn * m) * r;
    }
  }
}

/* Gradients of icrl_rmsnorm: dx [rows, d] and dg [d]. */
void icrl_rmsnorm_grad(const float *dy, const float *x, const float *g, const float *r, float *dx, float *dg, int64_t rows, int64_t d) {
  norm_job j = {.x = x, .g = g, .dy = dy, .r_in = r, .dx = dx, .rows = rows, .d = d};
  j.per = chunk_items(rows, 2 * d, CHUNK_WORK);
  int64_t chunks = (rows + j.per - 1) / j.per;
  j.partial = malloc((size_t)(chunks * d) * sizeof(float));
  parallel(chunks, norm_backward_chunk, &j);
  memset(dg, 0, (size_t)d * sizeof(float));
  for (int64_t c = 0; c < chunks; c++)
    for (int64_t i = 0; i < d; i++) dg[i] += j.partial[c * d + i];
  free(j.partial);
}

/* ------------------------------------------------------------------------------------------ */
/* SwiGLU: out = silu(gate) * up, element-wise.                                                */

typedef struct {
  const float *gate, *up, *dy;
  float *out, *dgate, *dup;
  int64_t size, per, width;
} swiglu_job;

static void swiglu_forward_chunk(void *ctx, int64_t chunk) {
  swiglu_job *j = ctx;
  int64_t begin = chunk * j->per, end = begin + j->per < j->size ? begin + j->per : j->size;
  for (int64_t i = begin; i < end; i++) {
    float g = j->gate[i];
    j->out[i] = g * sigmoid_fast(g) * j->up[i];
  }
}

void icrl_swiglu(const float *gate, const float *up, float *out, int64_t size) {
  swiglu_job j = {.gate = gate, .up = up, .out = out, .size = size, .per = CHUNK_WORK};
  parallel((size + j.per - 1) / j.per, swiglu_forward_chunk, &j);
}

static void swiglu_packed_chunk(void *ctx, int64_t chunk) {
  swiglu_job *j = ctx;
  int64_t begin = chunk * j->per, end = begin + j->per < j->size ? begin + j->per : j->size;
  for (int64_t r = begin; r < end; r++) {
    const float *gate = j->gate + r * 2 * j->width, *up = gate + j->width;
    float *out = j->out + r * j->width;
    for (int64_t i = 0; i < j->width; i++) out[i] = gate[i] * sigmoid_fast(gate[i]) * up[i];
  }
}

/* out [rows, width] = silu(gate) * up of the packed rows [gate | up] of gu [rows, 2 width]. */
void icrl_swiglu_packed(const float *gu, float *out, int64_t rows, int64_t width) {
  swiglu_job j = {.gate = gu, .out = out, .size = rows, .width = width, .per = chunk_items(rows, width, CHUNK_WORK)};
  parallel((rows + j.per - 1) / j.per, swiglu_packed_chunk, &j);
}

static void swiglu_backward_chunk(void *ctx, int64_t chunk) {
  swiglu_job *j = ctx;
  int64_t begin = chunk * j->per, end = begin + j->per < j->size ? begin + j->per : j->size;
  for (int64_t i = begin; i < end; i++) {
    float g = j->gate[i], u = j->up[i], dy = j->dy[i];
    float s = sigmoid_fast(g);
    float silu = g * s;
    j->dgate[i] = dy * u * (s + silu * (1.0f - s));
    j->dup[i] = dy * silu;
  }
}

void icrl_swiglu_grad(const float *dy, const float *gate, const float *up, float *dgate, float *dup, int64_t size) {
  swiglu_job j = {.gate = gate, .up = up, .dy = dy, .dgate = dgate, .dup = dup, .size = size, .per = CHUNK_WORK};
  parallel((size + j.per - 1) / j.per, swiglu_backward_chunk, &j);
}

/* ------------------------------------------------------------------------------------------ */
/* AdamW update of one variable, in double precision with the operations in the order of the   */
/* optimizer's plain loop (and no fused multiply-adds), so both give the same bits.            */

#if defined(__clang__)
#pragma clang fp contract(off)
#endif
typedef struct {
  float *p, *m, *v;
  const float *g;
  double b1, b2, lr, eps, c1, c2, clip, decay;
  int64_t size, per;
} adamw_job;

#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("fp-contract=off")))
#endif
static void adamw_chunk(void *ctx, int64_t chunk) {
  adamw_job *j = ctx;
  int64_t begin = chunk * j->per, end = begin + j->per < j->size ? begin + j->per : j->size;
  const double b1 = j->b1, b2 = j->b2, lr = j->lr, eps = j->eps, c1 = j->c1, c2 = j->c2, clip = j->clip, decay = j->decay;
  for (int64_t i = begin; i < end; i++) {
    double g = (double)j->g[i] * clip;
    double m = b1 * (double)j->m[i] + (1 - b1) * g;
    double v = b2 * (double)j->v[i] + (1 - b2) * g * g;
    j->m[i] = (float)m;
    j->v[i] = (float)v;
    double p = (double)j->p[i];
    j->p[i] = (float)(p - (lr * (m / c1)) / (sqrt(v / c2) + eps) - decay * p);
  }
}
#if defined(__clang__)
#pragma clang fp contract(on)
#endif

/* p, m, v [size] updated in place from the gradient g; c1, c2 the bias corrections. */
void icrl_adamw(float *p, const float *g, float *m, float *v, int64_t size, double b1, double b2, double lr, double eps,
                double c1, double c2, double clip, double decay) {
  adamw_job j = {.p = p, .g = g, .m = m, .v = v, .b1 = b1, .b2 = b2, .lr = lr, .eps = eps, .c1 = c1, .c2 = c2,
                 .clip = clip, .decay = decay, .size = size, .per = CHUNK_WORK * 4};
  parallel((size + j.per - 1) / j.per, adamw_chunk, &j);
}

/* ------------------------------------------------------------------------------------------ */
/* Token log-probabilities: lp[r] = x[r, id[r]] - lse[r], lse[r] = log sum exp x[r, :], and the  */
/* gradient dx[r, v] = dy[r] * ([v == id[r]] - exp(x[r, v] - lse[r])), rows of width V.          */

typedef struct {
  const float *x, *dy, *lse_in;
  const int32_t *ids;
  float *lp, *lse, *dx;
  int64_t rows, V, per;
} logprob_job;

static void logprob_forward_chunk(void *ctx, int64_t chunk) {
  logprob_job *j = ctx;
  int64_t end = (chunk + 1) * j->per < j->rows ? (chunk + 1) * j->per : j->rows;
  for (int64_t r = chunk * j->per; r < end; r++) {
    const float *x = j->x + r * j->V;
    float m = -INFINITY;
    for (int64_t v = 0; v < j->V; v++) m = x[v] > m ? x[v] : m;
    float lane[16] = {0}, tail = 0;
    int64_t v = 0;
    for (; v + 16 <= j->V; v += 16)
      for (int l = 0; l < 16; l++) lane[l] += exp_fast(x[v + l] - m);
    for (; v < j->V; v++) tail += exp_fast(x[v] - m);
    float total = 0;
    for (int l = 0; l < 16; l++) total += lane[l];
    float lse = m + logf(total + tail);
    j->lse[r] = lse;
    j->lp[r] = x[j->ids[r]] - lse;
  }
}

/* x [rows, V], ids [rows] (each in [0, V)) -> lp [rows], lse [rows]. */
void icrl_token_logprobs(const float *x, const int32_t *ids, float *lp, float *lse, int64_t rows, int64_t V) {
  logprob_job j = {.x = x, .ids = ids, .lp = lp, .lse = lse, .rows = rows, .V = V, .per = chunk_items(rows, V * 4, CHUNK_WORK)};
  parallel((rows + j.per - 1) / j.per, logprob_forward_chunk, &j);
}

static void logprob_backward_chunk(void *ctx, int64_t chunk) {
  logprob_job *j = ctx;
  int64_t end = (chunk + 1) * j->per < j->rows ? (chunk + 1) * j->per : j->rows;
  for (int64_t r = chunk * j->per; r < end; r++) {
    const float *x = j->x + r * j->V;
    float *dx = j->dx + r * j->V;
    float g = j->dy[r], lse = j->lse_in[r];
    for (int64_t v = 0; v < j->V; v++) dx[v] = -exp_fast(x[v] - lse) * g;
    dx[j->ids[r]] += g;
  }
}

/* Gradient of icrl_token_logprobs from dy [rows] and its lse: dx [rows, V]. */
void icrl_token_logprobs_grad(const float *dy, const float *x, const int32_t *ids, const float *lse, float *dx, int64_t rows, int64_t V) {
  logprob_job j = {.dy = dy, .x = x, .ids = ids, .lse_in = lse, .dx = dx, .rows = rows, .V = V, .per = chunk_items(rows, V * 2, CHUNK_WORK)};
  parallel((rows + j.per - 1) / j.per, logprob_backward_chunk, &j);
}

/* ------------------------------------------------------------------------------------------ */
/* Attention inputs: q and k RMS-normalized per head with their gains and rotated (rotate-half  */
/* layout, cos/sin tables [positions, hd/2]), q scaled; q, k, v moved from token rows           */
/* [B*T, heads*hd] to head-major [B, heads, columns, hd] at column offset `column`.            */

typedef struct {
  const float *q, *k, *v, *gq, *gk, *cos, *sin, *rq_in, *rk_in;
  const int32_t *positions;
  float *qo, *ko, *vo, *rq, *rk;
  /* gradient */
  const float *dqo, *dko, *dvo;
  float *dq, *dk, *dv, *partial;
  int64_t B, T, H, Hkv, hd, columns, column, half, per;
  int64_t q_stride, kv_stride; /* forward: floats from one token row of q (of k and v) to the next */
  float eps, scale;
} rope_job;

/* One head slot of one token: normalize, gain, rotate, scale. */
static inline float norm_rope(const float *x, const float *g, const float *c, const float *s, float *out, int64_t hd, int64_t half, float eps, float scale) {
  float r = 1.0f / sqrtf(dot(x, x, hd) / (float)hd + eps);
  for (int64_t i = 0; i < half; i++) {
    float a = x[i] * r * g[i];
    float b = x[i + half] * r * g[i + half];
    out[i] = (a * c[i] - b * s[i]) * scale;
    out[i + half] = (b * c[i] + a * s[i]) * scale;
  }
  return r;
}

static void rope_forward_chunk(void *ctx, int64_t chunk) {
  rope_job *j = ctx;
  int64_t N = j->B * j->T, hd = j->hd;
  int64_t end = (chunk + 1) * j->per < N ? (chunk + 1) * j->per : N;
  for (int64_t n = chunk * j->per; n < end; n++) {
    int64_t b = n / j->T, t = n % j->T;
    const float *c = j->cos + (int64_t)j->positions[n] * j->half;
    const float *s = j->sin + (int64_t)j->positions[n] * j->half;
    for (int64_t h = 0; h < j->H; h++) {
      float *out = j->qo + ((b * j->H + h) * j->T + t) * hd;
      float r = norm_rope(j->q + n * j->q_stride + h * hd, j->gq, c, s, out, hd, j->half, j->eps, j->scale);
      if (j->rq) j->rq[n * j->H + h] = r;
    }
    for (int64_t h = 0; h < j->Hkv; h++) {
      int64_t at = ((b * j->Hkv + h) * j->columns + j->column + t) * hd;
      float r = norm_rope(j->k + n * j->kv_stride + h * hd, j->gk, c, s, j->ko + at, hd, j->half, j->eps, 1.0f);
      if (j->rk) j->rk[n * j->Hkv + h] = r;
      memcpy(j->vo + at, j->v + n * j->kv_stride + h * hd, (size_t)hd * sizeof(float));
    }
  }
}

/*
 * q [B*T, H*hd], k and v [B*T, Hkv*hd] -> qo [B, H, T, hd], ko and vo [B, Hkv, columns, hd]
 * (written at columns column..column+T-1); rq, rk (may be NULL) receive the rows' 1/rms.
 * Token rows are q_stride (k and v: kv_stride) floats apart, so q, k and v may be the column
 * blocks of one packed [B*T, (H + 2 Hkv) hd] matrix.
 */
void icrl_attention_inputs(const float *q, const float *k, const float *v, const float *gq, const float *gk,
                           const float *cos, const float *sin, const int32_t *positions,
                           float *qo, float *ko, float *vo, float *rq, float *rk,
                           int64_t B, int64_t T, int64_t H, int64_t Hkv, int64_t hd, int64_t columns, int64_t column,
                           int64_t q_stride, int64_t kv_stride, float eps, float scale) {
  rope_job j = {.q = q, .k = k, .v = v, .gq = gq, .gk = gk, .cos = cos, .sin = sin, .positions = positions,
                .qo = qo, .ko = ko, .vo = vo, .rq = rq, .rk = rk, .B = B, .T = T, .H = H, .Hkv = Hkv, .hd = hd,
                .columns = columns, .column = column, .half = hd / 2, .q_stride = q_stride, .kv_stride = kv_stride,
                .eps = eps, .scale = scale};
  j.per = chunk_items(B * T, (H + 2 * Hkv) * hd * 2, CHUNK_WORK);
  parallel((B * T + j.per - 1) / j.per, rope_forward_chunk, &j);
}

/* Gradient through one head slot: un-rotate, then the RMSNorm with gain (adds to dg). */
static inline void norm_rope_grad(const float *dout, const float *x, const float *g, const float *c, const float *s, float r,
                                  float *dx, float *dg, int64_t hd, int64_t half, float scale) {
  float lane[16] = {0};
  float tail = 0;
  /* dxn = un-rotated gradient times the gain; dx = (dxn - xn * mean(dxn * xn)) * r */
  for (int64_t i = 0; i < half; i++) {
    float da = (dout[i] * c[i] + dout[i + half] * s[i]) * scale;
    float db = (dout[i + half] * c[i] - dout[i] * s[i]) * scale;
    float xa = x[i] * r, xb = x[i + half] * r;
    dg[i] += da * xa;
    dg[i + half] += db * xb;
    dx[i] = da * g[i];
    dx[i + half] = db * g[i + half];
  }
  int64_t i = 0;
  for (; i + 16 <= hd; i += 16)
    for (int l = 0; l < 16; l++) lane[l] += dx[i + l] * x[i + l];
  for (; i < hd; i++) tail += dx[i] * x[i];
  float sum = 0;
  for (int l = 0; l < 16; l++) sum += lane[l];
  float m = (sum + tail) * r / (float)hd;
  for (i = 0; i < hd; i++) dx[i] = (dx[i] - x[i] * r * m) * r;
}

static void rope_backward_chunk(void *ctx, int64_t chunk) {
  rope_job *j = ctx;
  int64_t N = j->B * j->T, hd = j->hd;
  float *dgq = j->partial + chunk * 2 * hd, *dgk = dgq + hd;
  memset(dgq, 0, (size_t)(2 * hd) * sizeof(float));
  int64_t end = (chunk + 1) * j->per < N ? (chunk + 1) * j->per : N;
  for (int64_t n = chunk * j->per; n < end; n++) {
    int64_t b = n / j->T, t = n % j->T;
    const float *c = j->cos + (int64_t)j->positions[n] * j->half;
    const float *s = j->sin + (int64_t)j->positions[n] * j->half;
    for (int64_t h = 0; h < j->H; h++) {
      int64_t row = (n * j->H + h) * hd;
      norm_rope_grad(j->dqo + ((b * j->H + h) * j->T + t) * hd, j->q + row, j->gq, c, s, j->rq_in[n * j->H + h], j->dq + row, dgq, hd, j->half, j->scale);
    }
    for (int64_t h = 0; h < j->Hkv; h++) {
      int64_t row = (n * j->Hkv + h) * hd;
      int64_t at = ((b * j->Hkv + h) * j->T + t) * hd;
      norm_rope_grad(j->dko + at, j->k + row, j->gk, c, s, j->rk_in[n * j->Hkv + h], j->dk + row, dgk, hd, j->half, 1.0f);
      memcpy(j->dv + row, j->dvo + at, (size_t)hd * sizeof(float));
    }
  }
}

/* Gradients of icrl_attention_inputs (column 0, columns T): dq, dk, dv in token rows, dgq, dgk. */
void icrl_attention_inputs_grad(const float *dqo, const float *dko, const float *dvo, const float *q, const float *k,
                                const float *gq, const float *gk, const float *rq, const float *rk,
                                const float *cos, const float *sin, const int32_t *positions,
                                float *dq, float *dk, float *dv, float *dgq, float *dgk,
                                int64_t B, int64_t T, int64_t H, int64_t Hkv, int64_t hd, float scale) {
  rope_job j = {.dqo = dqo, .dko = dko, .dvo = dvo, .q = q, .k = k, .gq = gq, .gk = gk, .rq_in = rq, .rk_in = rk,
                .cos = cos, .sin = sin, .positions = positions, .dq = dq, .dk = dk, .dv = dv,
                .B = B, .T = T, .H = H, .Hkv = Hkv, .hd = hd, .half = hd / 2, .scale = scale};
  j.per = chunk_items(B * T, (H + 2 * Hkv) * hd * 4, CHUNK_WORK);
  int64_t chunks = (B * T + j.per - 1) / j.per;
  j.partial = malloc((size_t)(chunks * 2 * hd) * sizeof(float));
  parallel(chunks, rope_backward_chunk, &j);
  memset(dgq, 0, (size_t)hd * sizeof(float));
  memset(dgk, 0, (size_t)hd * sizeof(float));
  for (int64_t c = 0; c < chunks; c++)
    for (int64_t i = 0; i < hd; i++) {
      dgq[i] += j.partial[c * 2 * hd + i];
      dgk[i] += j.partial[c * 2 * hd + hd + i];
    }
  free(j.partial);
}

/* ------------------------------------------------------------------------------------------ */
/* Causal attention with left padding. Query t of row b sits at key column first + t and sees   */
/* key columns pads[b] .. first + t; a query inside the padding (first + t < pads[b]) gets a     */
/* zero output. q [B, H, T, hd] (already scaled), k and v [B, Hkv, columns, hd], output in      */
/* token rows [B, T, H*hd], lse [B, H, T] the log-sum-exp of each query's scores.               */

typedef struct {
  const float *q, *k, *v, *out_in, *dout, *lse_in;
  const int32_t *pads;
  float *out, *lse, *dq, *dk, *dv;
  int64_t B, T, H, Hkv, hd, columns, first, per;
} attention_job;

/* Row stride of a transposed block of `count` rows: whole vectors of 16. */
static inline int64_t padded(int64_t count) { return (count + 15) & ~(int64_t)15; }

/* xt [hd][padded(count)] = the rows x[0..count) [count][hd], transposed, zero past count. */
static void transpose_rows(const float *restrict x, float *restrict xt, int64_t count, int64_t hd) {
  int64_t stride = padded(count);
  for (int64_t i = 0; i < hd; i++) {
    for (int64_t s = 0; s < count; s++) xt[i * stride + s] = x[s * hd + i];
    for (int64_t s = count; s < stride; s++) xt[i * stride + s] = 0;
  }
}

/* out[0..hd) = sum over s < count of w[s] * x[s][0..hd): sixteen columns at a time in registers. */
static inline void weighted_rows(float *restrict out, const float *restrict w, const float *restrict x, int64_t count, int64_t hd) {
  int64_t i0 = 0;
  for (; i0 + 16 <= hd; i0 += 16) {
    v16 acc = {0};
    for (int64_t s = 0; s < count; s++) acc += w[s] * load16(x + s * hd + i0);
    store16(out + i0, acc);
  }
  for (; i0 < hd; i0++) {
    float acc = 0;
    for (int64_t s = 0; s < count; s++) acc += w[s] * x[s * hd + i0];
    out[i0] = acc;
  }
}

/*
 * Four query rows at once (register blocking: each loaded key or value vector feeds four
 * independent accumulators instead of one dependent chain). dots4 leaves in rows[k][0..count)
 * (rounded up to 16) the dot products of q[k] with the `count` rows transposed in xt (row stride
 * `stride`, zero past the rows), each summed over the hd terms in order.
 */
#define ROWS 4

static inline void dots4(float *const rows[ROWS], const float *const q[ROWS], const float *restrict xt, int64_t stride, int64_t count, int64_t hd) {
  for (int64_t s = 0; s < count; s += 16) {
    v16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
    for (int64_t i = 0; i < hd; i++) {
      v16 x = load16(xt + i * stride + s);
      a0 += q[0][i] * x;
      a1 += q[1][i] * x;
      a2 += q[2][i] * x;
      a3 += q[3][i] * x;
    }
    store16(rows[0] + s, a0);
    store16(rows[1] + s, a1);
    store16(rows[2] + s, a2);
    store16(rows[3] + s, a3);
  }
}

/* out[k] = sum over s < count of w[k][s] * x[s]; rows whose own count is shorter carry zero weights past it. */
static inline void weighted_rows4(float *const out[ROWS], const float *const w[ROWS], const float *restrict x, int64_t count, int64_t hd) {
  int64_t i0 = 0;
  for (; i0 + 16 <= hd; i0 += 16) {
    v16 a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0};
    for (int64_t s = 0; s < count; s++) {
      v16 xv = load16(x + s * hd + i0);
      a0 += w[0][s] * xv;
      a1 += w[1][s] * xv;
      a2 += w[2][s] * xv;
      a3 += w[3][s] * xv;
    }
    store16(out[0] + i0, a0);
    store16(out[1] + i0, a1);
    store16(out[2] + i0, a2);
    store16(out[3] + i0, a3);
  }
  for (; i0 < hd; i0++)
    for (int k = 0; k < ROWS; k++) {
      float acc = 0;
      for (int64_t s = 0; s < count; s++) acc += w[k][s] * x[s * hd + i0];
      out[k][i0] = acc;
    }
}

static void attention_forward_chunk(void *ctx, int64_t chunk) {
  attention_job *j = ctx;
  int64_t hd = j->hd, rep = j->H / j->Hkv, tasks = j->B * j->H;
  int64_t keys = j->first + j->T; /* columns any query of this call can see */
  int64_t width = padded(keys);
  float *buffer = malloc((size_t)(width * (ROWS + hd) + ROWS * hd) * sizeof(float));
  float *kt = buffer + ROWS * width, *spare = kt + width * hd; /* spare: outputs of absent rows */
  int64_t end = (chunk + 1) * j->per < tasks ? (chunk + 1) * j->per : tasks;
  for (int64_t task = chunk * j->per; task < end; task++) {
    int64_t b = task / j->H, h = task % j->H, kvh = h / rep;
    int64_t pad = j->pads[b] < keys ? j->pads[b] : keys;
    const float *K = j->k + (b * j->Hkv + kvh) * j->columns * hd;
    const float *V = j->v + (b * j->Hkv + kvh) * j->columns * hd;
    int64_t visible = keys - pad;
    /* Queries inside the padding see nothing: a zero output. */
    int64_t t_start = pad - j->first > 0 ? pad - j->first : 0;
    if (t_start > j->T) t_start = j->T;
    for (int64_t t = 0; t < t_start; t++) {
      memset(j->out + ((b * j->T + t) * j->H + h) * hd, 0, (size_t)hd * sizeof(float));
      if (j->lse) j->lse[(b * j->H + h) * j->T + t] = 0;
    }
    if (t_start == j->T) continue;
    transpose_rows(K + pad * hd, kt, visible, hd);
    for (int64_t t0 = t_start; t0 < j->T; t0 += ROWS) {
      int64_t rows = j->T - t0 < ROWS ? j->T - t0 : ROWS;
      float *score[ROWS], *o[ROWS];
      const float *q[ROWS];
      int64_t count[ROWS];
      for (int64_t k = 0; k < ROWS; k++) {
        int64_t t = t0 + (k < rows ? k : rows - 1); /* absent rows repeat the last one */
        score[k] = buffer + k * width;
        q[k] = j->q + ((b * j->H + h) * j->T + t) * hd;
        o[k] = k < rows ? j->out + ((b * j->T + t) * j->H + h) * hd : spare + k * hd;
        count[k] = j->first + t + 1 - pad;
      }
      int64_t most = count[ROWS - 1];
      dots4(score, q, kt, padded(visible), most, hd);
      float inv[ROWS];
      for (int64_t k = 0; k < ROWS; k++) {
        float *sc = score[k];
        float m = -INFINITY;
        for (int64_t s = 0; s < count[k]; s++) m = sc[s] > m ? sc[s] : m;
        for (int64_t s = 0; s < count[k]; s++) sc[s] = exp_fast(sc[s] - m);
        for (int64_t s = count[k]; s < most; s++) sc[s] = 0;
        float l = sum(sc, count[k]);
        inv[k] = 1.0f / l;
        if (j->lse && k < rows) j->lse[(b * j->H + h) * j->T + t0 + k] = m + logf(l);
      }
      weighted_rows4(o, (const float *const *)score, V + pad * hd, most, hd);
      for (int64_t k = 0; k < rows; k++)
        for (int64_t i = 0; i < hd; i++) o[k][i] *= inv[k];
    }
  }
  free(buffer);
}

/*
 * One query per row (decoding), a task per (row, key/value head) with the query heads that
 * share it: dot products with the key rows as they lie (transposing them for blocked products
 * would cost as much as the products), each key and value row read once for the group.
 */
static void attention_decode_chunk(void *ctx, int64_t chunk) {
  attention_job *j = ctx;
  int64_t hd = j->hd, rep = j->H / j->Hkv, tasks = j->B * j->Hkv, keys = j->first + 1;
  float *scores = malloc((size_t)(rep * keys) * sizeof(float));
  int64_t end = (chunk + 1) * j->per < tasks ? (chunk + 1) * j->per : tasks;
  for (int64_t task = chunk * j->per; task < end; task++) {
    int64_t b = task / j->Hkv, kvh = task % j->Hkv;
    int64_t pad = j->pads[b] < keys ? j->pads[b] : keys, count = keys - pad;
    const float *K = j->k + (task * j->columns + pad) * hd, *V = j->v + (task * j->columns + pad) * hd;
    const float *q = j->q + (b * j->H + kvh * rep) * hd; /* the group's rep query rows, one after another */
    for (int64_t s = 0; s < count; s++)
      for (int64_t r = 0; r < rep; r++) scores[r * keys + s] = dot_tree(q + r * hd, K + s * hd, hd);
    for (int64_t r = 0; r < rep; r++) {
      int64_t h = kvh * rep + r;
      float *o = j->out + (b * j->H + h) * hd, *sc = scores + r * keys;
      if (count <= 0) {
        memset(o, 0, (size_t)hd * sizeof(float));
        if (j->lse) j->lse[b * j->H + h] = 0;
        continue;
      }
      float m = -INFINITY;
      for (int64_t s = 0; s < count; s++) m = sc[s] > m ? sc[s] : m;
      for (int64_t s = 0; s < count; s++) sc[s] = exp_fast(sc[s] - m);
      float l = sum(sc, count);
      weighted_rows(o, sc, V, count, hd);
      float inv = 1.0f / l;
      for (int64_t i = 0; i < hd; i++) o[i] *= inv;
      if (j->lse) j->lse[b * j->H + h] = m + logf(l);
    }
  }
  free(scores);
}

void icrl_attention(const float *q, const float *k, const float *v, const int32_t *pads, float *out, float *lse,
                    int64_t B, int64_t T, int64_t H, int64_t Hkv, int64_t hd, int64_t columns, int64_t first) {
  attention_job j = {.q = q, .k = k, .v = v, .pads = pads, .out = out, .lse = lse,
                     .B = B, .T = T, .H = H, .Hkv = Hkv, .hd = hd, .columns = columns, .first = first};
  if (T == 1) {
    j.per = chunk_items(B * Hkv, (H / Hkv) * (first + 1) * 4 * hd, CHUNK_WORK * 4);
    parallel((B * Hkv + j.per - 1) / j.per, attention_decode_chunk, &j);
    return;
  }
  /* a (row, head) costs about T * (first + T / 2) * 4 * hd flops */
  j.per = chunk_items(B * H, T * (first + T / 2 + 1) * 4 * hd, CHUNK_WORK * 4);
  parallel((B * H + j.per - 1) / j.per, attention_forward_chunk, &j);
}

static void attention_backward_chunk(void *ctx, int64_t chunk) {
  attention_job *j = ctx;
  int64_t hd = j->hd, rep = j->H / j->Hkv, T = j->T, tasks = j->B * j->Hkv;
  int64_t width = padded(T);
  float *buffer = malloc((size_t)(2 * ROWS * width + 2 * width * hd + ROWS * hd) * sizeof(float));
  float *kt = buffer + 2 * ROWS * width, *vt = kt + width * hd, *spare = vt + width * hd;
  int64_t end = (chunk + 1) * j->per < tasks ? (chunk + 1) * j->per : tasks;
  for (int64_t task = chunk * j->per; task < end; task++) {
    int64_t b = task / j->Hkv, kvh = task % j->Hkv;
    int64_t pad = j->pads[b] < T ? j->pads[b] : T;
    int64_t visible = T - pad;
    const float *K = j->k + task * T * hd, *V = j->v + task * T * hd;
    float *dK = j->dk + task * T * hd, *dV = j->dv + task * T * hd;
    memset(dK, 0, (size_t)(T * hd) * sizeof(float));
    memset(dV, 0, (size_t)(T * hd) * sizeof(float));
    transpose_rows(K + pad * hd, kt, visible, hd);
    transpose_rows(V + pad * hd, vt, visible, hd);
    for (int64_t r = 0; r < rep; r++) {
      int64_t h = kvh * rep + r;
      for (int64_t t = 0; t < pad; t++) memset(j->dq + ((b * j->H + h) * T + t) * hd, 0, (size_t)hd * sizeof(float));
      for (int64_t t0 = pad; t0 < T; t0 += ROWS) {
        int64_t rows = T - t0 < ROWS ? T - t0 : ROWS;
        float *p[ROWS], *dp[ROWS], *dq[ROWS];
        const float *qt[ROWS], *dout[ROWS];
        int64_t count[ROWS];
        for (int64_t k = 0; k < ROWS; k++) {
          int64_t t = t0 + (k < rows ? k : rows - 1); /* absent rows repeat the last one */
          p[k] = buffer + k * width;
          dp[k] = buffer + (ROWS + k) * width;
          qt[k] = j->q + ((b * j->H + h) * T + t) * hd;
          dout[k] = j->dout + ((b * T + t) * j->H + h) * hd;
          dq[k] = k < rows ? j->dq + ((b * j->H + h) * T + t) * hd : spare + k * hd;
          count[k] = t + 1 - pad;
        }
        int64_t most = count[ROWS - 1];
        dots4(p, qt, kt, padded(visible), most, hd);
        dots4(dp, dout, vt, padded(visible), most, hd);
        for (int64_t k = 0; k < ROWS; k++) {
          int64_t t = t0 + (k < rows ? k : rows - 1);
          float lse = j->lse_in[(b * j->H + h) * T + t];
          float D = dot(dout[k], j->out_in + ((b * T + t) * j->H + h) * hd, hd);
          /* absent rows and columns past a row's own count get zero weight */
          int64_t own = k < rows ? count[k] : 0;
          for (int64_t s = 0; s < own; s++) {
            p[k][s] = exp_fast(p[k][s] - lse);
            dp[k][s] = p[k][s] * (dp[k][s] - D);
          }
          for (int64_t s = own; s < most; s++) p[k][s] = dp[k][s] = 0;
        }
        weighted_rows4(dq, (const float *const *)dp, K + pad * hd, most, hd);
        /* dK[s] += dp[k][s] q[k], dV[s] += p[k][s] dout[k], in the order of k (of t) */
        for (int64_t s = 0; s < most; s++) {
          float *dk = dK + (pad + s) * hd, *dv = dV + (pad + s) * hd;
          int64_t i = 0;
          for (; i + 16 <= hd; i += 16) {
            v16 ak = load16(dk + i), av = load16(dv + i);
            for (int64_t k = 0; k < rows; k++) {
              ak += dp[k][s] * load16(qt[k] + i);
              av += p[k][s] * load16(dout[k] + i);
            }
            store16(dk + i, ak);
            store16(dv + i, av);
          }
          for (; i < hd; i++)
            for (int64_t k = 0; k < rows; k++) {
              dk[i] += dp[k][s] * qt[k][i];
              dv[i] += p[k][s] * dout[k][i];
            }
        }
      }
    }
  }
  free(buffer);
}
/* Gradients of icrl_attention (first 0, columns T) from dout, the output and lse: dq, dk, dv. */
void icrl_attention_grad(const float *dout, const float *q, const float *k, const float *v, const float *out, const float *lse,
                         const int32_t *pads, float *dq, float *dk, float *dv, int64_t B, int64_t T, int64_t H, int64_t Hkv, int64_t hd) {
  attention_job j = {.dout = dout, .q = q, .k = k, .v = v, .out_in = out, .lse_in = lse, .pads = pads, .dq = dq, .dk = dk, .dv = dv,
                     .B = B, .T = T, .H = H, .Hkv = Hkv, .hd = hd, .columns = T, .first = 0};
  j.per = chunk_items(B * Hkv, (H / Hkv) * T * (T / 2 + 1) * 12 * hd, CHUNK_WORK * 4);
  parallel((B * Hkv + j.per - 1) / j.per, attention_backward_chunk, &j);
}
