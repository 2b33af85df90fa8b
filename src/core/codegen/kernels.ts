// The C kernels the generator copies into an exported folder, each with what it needs; only the kernels a model uses
// are written. Conventions shared by every kernel:
// - a tensor is stored row-major in its file's own layout (NCHW for ONNX, NHWC for TFLite);
// - a spatial kernel sees each tensor through an mm_view: element (c, h, w) of the full tensor is at
//   c*sc + (h-h0)*sh + (w-w0)*sw, where (h0, w0) is the corner of the region the buffer holds. Layer by layer the
//   region is the whole tensor; in the patch stage it is a tile's region, and the same kernel computes the tile; in a
//   line-buffered stream (rows > 0) the buffer is a ring of `rows` rows and row h sits in slot h mod rows;
// - an mm_box is the output region to compute, [h0, h1) x [w0, w1), in full-tensor coordinates;
// - padding is never stored: input positions outside the full tensor are skipped (zero, or the zero point in int8),
//   exactly as the TFLite reference kernels do;
// - a stride of 0 broadcasts (a per-channel or scalar operand of an elementwise operator);
// - int8 follows the TFLite reference: int32 accumulators, input_offset = -zero_point, Q31 multiplier and shift with
//   rounding-doubling high multiply and rounding right shift (gemmlowp), clamping to the fused activation's range.
//   uint8 tensors (ONNX) are stored as int8 with 128 subtracted (values and zero point), which leaves every
//   difference q - zero_point unchanged; the model's entry and exit flip the top bit.

export interface KernelSource {
  /** Declarations for mm_kernels.h (types and prototypes). */
  decl: string;
  /** Definitions for mm_kernels.c. */
  code: string;
  deps?: string[];
}

export const KERNEL_PRELUDE_H = `#include <stddef.h>
#include <stdint.h>

typedef struct { int32_t h0, w0, sc, sh, sw, rows; } mm_view;
typedef struct { int32_t h0, h1, w0, w1; } mm_box;
/* rows > 0: a ring of that many rows (a line-buffered stream), row h stored in slot h % rows. */
#define MM_ROW(v, h) ((v).rows > 0 ? (int32_t)(h) % (v).rows : (int32_t)(h) - (v).h0)
#define MM_AT(v, c, h, w) ((int32_t)(c) * (v).sc + MM_ROW(v, h) * (v).sh + ((int32_t)(w) - (v).w0) * (v).sw)
`;

export const KERNEL_PRELUDE_C = `#include <math.h>
#include <string.h>
#include "mm_kernels.h"
`;

/** A transposed convolution (ONNX ConvTranspose, TFLite TRANSPOSE_CONV) gathered per output, on the convolution's
 *  parameter struct: input (ih, iw) feeds output (ih*sh - pt + ky*dh, iw*sw - pl + kx*dw) through tap (ky, kx). int8 is
 *  TFLM's reference TransposeConv: int32 sums, then the bias, then the per-channel rescale. */
function tconvKernel(t: 'f32' | 's8' | 's16'): KernelSource {
  const f = t === 'f32';
  const T = f ? 'float' : t === 's8' ? 'int8_t' : 'int16_t';
  const W = t === 's16' ? 'int8_t' : T;
  const sig = `void mm_tconv_${t}(const mm_conv_${t}_t *p, const ${T} *x, mm_view xv, ${T} *y, mm_view yv, mm_box o)`;
  const mac = f ? 'acc += xp[ic * xv.sc] * wp[ic];' : t === 's8' ? 'acc += ((int32_t)xp[ic * xv.sc] + p->in_off) * ((int32_t)wp[ic] + p->w_off);' : 'acc += (int32_t)xp[ic * xv.sc] * (int32_t)wp[ic];';
  // int16 (TFLM's int16x8 TransposeConv): always the 64-bit accumulator, bias and rescaling.
  const store = f
    ? 'y[MM_AT(yv, oc, oh, ow)] = acc < p->lo ? p->lo : acc > p->hi ? p->hi : acc;'
    : t === 's8'
      ? 'y[MM_AT(yv, oc, oh, ow)] = (int8_t)mm_clamp(mm_mbqm(acc, p->mult[oc], p->shift[oc]) + p->out_off, p->lo, p->hi);'
      : 'y[MM_AT(yv, oc, oh, ow)] = (int16_t)mm_clamp(mm_mbqm64(acc, p->mult[oc], p->shift[oc]), p->lo, p->hi);';
  return {
    deps: [`conv_${t}`],
    decl: `${sig};`,
    code: `/* transposed convolution gathered per output; ih/iw/cin are the input's, weights [cout][kh][kw][cin/groups] */
${sig} {
  const int32_t cig = p->cin / p->groups, cog = p->cout / p->groups;
  for (int32_t oh = o.h0; oh < o.h1; oh++) {
    for (int32_t ow = o.w0; ow < o.w1; ow++) {
      for (int32_t oc = 0; oc < p->cout; oc++) {
        const int32_t c0 = (oc / cog) * cig;
        const ${W} *wc = p->w + (size_t)oc * p->kh * p->kw * cig;
        ${f ? 'float acc = 0.0f' : t === 's8' ? 'int32_t acc = 0' : 'int64_t acc = 0'};
        /* taps from the last: the input rows and columns ascending, the order in which TFLite's reference kernel
           scatters them into this output (the same float sums) */
        for (int32_t ky = p->kh - 1; ky >= 0; ky--) {
          const int32_t th = oh + p->pt - ky * p->dh;
          if (th < 0 || th % p->sh != 0 || th / p->sh >= p->ih) continue;
          for (int32_t kx = p->kw - 1; kx >= 0; kx--) {
            const int32_t tw = ow + p->pl - kx * p->dw;
            if (tw < 0 || tw % p->sw != 0 || tw / p->sw >= p->iw) continue;
            const ${T} *xp = x + MM_AT(xv, c0, th / p->sh, tw / p->sw);
            const ${W} *wp = wc + (ky * p->kw + kx) * cig;
            for (int32_t ic = 0; ic < cig; ic++) ${mac}
          }
        }
        if (p->b) acc += p->b[oc];
        ${store}
      }
    }
  }
}`,
  };
}

/** The loops of TFLite's LSTM kernels (float and int8): per batch row and time step, the input row, the previous
 *  hidden state (the state tensor at the first step, else the output's previous step) and the output row, then
 *  `unit` for each unit j (it reads xt, hp and cb[j], writes cb[j] and yt[j]); the last step's output becomes the
 *  hidden state. */
function lstmLoop(t: 'f32' | 's8' | 's16', X: string, C: string, unit: string): string {
  return `void mm_lstm_tfl_${t}(const mm_lstm_tfl_${t}_t *p, const ${X} *x, ${X} *h, ${C} *c, ${X} *y) {
  const int32_t H = p->hid;
  for (int32_t b = 0; b < p->batch; b++) {
    for (int32_t t = 0; t < p->time; t++) {
      const int32_t row = p->time_major ? t * p->batch + b : b * p->time + t;
      const int32_t prev = p->time_major ? (t - 1) * p->batch + b : b * p->time + t - 1;
      const ${X} *xt = x + (size_t)row * p->in, *hp = t == 0 ? h + (size_t)b * H : y + (size_t)prev * H;
      ${X} *yt = y + (size_t)row * H;
      ${C} *cb = c + (size_t)b * H;
      for (int32_t j = 0; j < H; j++) {
${unit}      }
    }
    const int32_t last = p->time_major ? (p->time - 1) * p->batch + b : b * p->time + p->time - 1;
    for (int32_t j = 0; j < H; j++) h[(size_t)b * H + j] = y[(size_t)last * H + j];
  }
}`;
}

/** TFLite's integer UNIDIRECTIONAL_SEQUENCE_LSTM as TFLM's lstm_eval computes it, unit by unit: int8 activations
 *  with int32 biases (its 8x8_16 LSTM), or int16 activations with int64 biases, accumulators and the 64-bit rescaling
 *  (its 16x8_16 LSTM); an int16 cell state, gates in Q3.12 then Q0.15. The hidden state of step t-1 is read from y,
 *  the cell state updated in place, so the kernel needs no memory of its own; h and c are the state tensors, kept
 *  from run to run. */
function lstmIntKernel(t: 's8' | 's16'): KernelSource {
  const [X, lo, hi] = INT_TYPES[t];
  // int16: TFLM's int64 biases are stored as int32 (the export refuses wider values).
  const [acc, mbqm] = t === 's8' ? ['int32_t', 'mm_mbqm'] : ['int64_t', 'mm_mbqm64'];
  return {
    deps: ['requant', 'qtab16'],
    decl: `typedef struct {
  int32_t batch, time, in, hid, time_major;
  int32_t x_off, h_off, h_zp; /* -input zero point, -hidden state zero point, hidden state zero point */
  const int8_t *w[4], *r[4]; const int32_t *b[4]; /* gates forget, input, cell, output */
  int32_t wm[4], ws[4], rm[4], rs[4]; /* each gate's input and recurrent products to Q3.12 */
  int32_t fc_m, fc_s, ig_m, ig_s, oh_m, oh_s; /* forget x cell, input x cell gate, tanh(cell) x output gate */
  int32_t clip, tanh_mult, tanh_shift; /* quantized cell clip (0: none); the cell's tanh input scaling */
  const int32_t *sig; /* TFLM's 256-entry sigmoid table */
} mm_lstm_tfl_${t}_t;
void mm_lstm_tfl_${t}(const mm_lstm_tfl_${t}_t *p, const ${X} *x, ${X} *h, int16_t *c, ${X} *y);`,
    code: `/* TFLite's ${t === 's8' ? 'int8' : 'int16'} UNIDIRECTIONAL_SEQUENCE_LSTM as TFLM's lstm_eval computes it (${t === 's8' ? 'int8' : 'int16'} activations, int16 cell state,
   gates in Q3.12 then Q0.15), unit by unit: the hidden state of step t-1 is read from y, the cell state updated in
   place, so the kernel needs no memory of its own; h and c are the state tensors, kept from run to run. */
${lstmLoop(t, X, 'int16_t', `        int32_t g[4];
        for (int32_t q = 0; q < 4; q++) {
          const int8_t *w = p->w[q] + (size_t)j * p->in, *r = p->r[q] + (size_t)j * H;
          ${acc} acc = 0;
          for (int32_t k = 0; k < p->in; k++) acc += (${acc})w[k] * ((int32_t)xt[k] + p->x_off);
          if (p->b[q]) acc += p->b[q][j];
          const int32_t fi = mm_c16(${mbqm}(acc, p->wm[q], p->ws[q]));
          acc = 0;
          for (int32_t k = 0; k < H; k++) acc += (${acc})r[k] * ((int32_t)hp[k] + p->h_off);
          const int32_t fr = mm_c16(${mbqm}(acc, p->rm[q], p->rs[q]));
          g[q] = mm_c16(fi + fr);
        }
        const int32_t forget = mm_q_sigmoid(p->sig, g[0], 3, 0), input = mm_q_sigmoid(p->sig, g[1], 3, 0);
        const int32_t gate = mm_q_tanh(p->sig, g[2], 3, 0), out = mm_q_sigmoid(p->sig, g[3], 3, 0);
        const int32_t kept = mm_c16(mm_mbqm(forget * cb[j], p->fc_m, p->fc_s));
        const int32_t added = mm_c16(mm_mbqm(input * gate, p->ig_m, p->ig_s));
        int32_t cell = mm_c16(kept + added);
        if (p->clip > 0) cell = cell > p->clip ? p->clip : cell < -p->clip ? -p->clip : cell;
        cb[j] = (int16_t)cell;
        const int32_t v = mm_mbqm(mm_q_tanh(p->sig, cell, p->tanh_mult, p->tanh_shift) * out, p->oh_m, p->oh_s) + p->h_zp;
        yt[j] = (${X})(v < ${lo} ? ${lo} : v > ${hi} ? ${hi} : v);
`)}`,
  };
}

/** TFLite's SVDF as TFLM runs it (svdf_common.cc): the state (a variable tensor, kept from run to run) shifted by one
 *  element, the feature filters' outputs written at each filter's newest slot, then per unit the time filters over
 *  the memory summed over the rank, with the bias. float, or int8 with an int16 or int8 state (TFLM's
 *  EvalIntegerSvdfReference: no fused activation, int8 clamp). Per unit instead of TFLM's scratch of one value per
 *  filter: the same integer sums, and the same float order. */
function svdfKernel(t: 'f32' | 's8_s16' | 's8_s8'): KernelSource {
  const f = t === 'f32';
  const S = f ? 'float' : t === 's8_s16' ? 'int16_t' : 'int8_t';
  const X = f ? 'float' : 'int8_t';
  const name = `mm_svdf_${t}`;
  const feature = f
    ? 'float dot = 0.0f;\n      for (int32_t k = 0; k < p->in; k++) dot += wf[k] * xb[k];\n      state[((size_t)b * p->filters + r) * p->memory + p->memory - 1] = dot;'
    : `int32_t dot = 0;\n      for (int32_t k = 0; k < p->in; k++) dot += wf[k] * (xb[k] - p->in_zp);\n      dot = mm_clamp(mm_mbqm(dot, p->m1, p->s1), ${f ? 0 : t === 's8_s16' ? -32768 : -128}, ${t === 's8_s16' ? 32767 : 127});\n      state[((size_t)b * p->filters + r) * p->memory + p->memory - 1] = (${S})(p->state_zp + dot);`;
  const acc = f ? 'float' : 'int32_t';
  const term = f ? 'wt[m] * sf[m]' : 'wt[m] * (sf[m] - p->state_zp)';
  const store = f
    ? 'y[(size_t)b * p->units + i] = acc < p->lo ? p->lo : acc > p->hi ? p->hi : acc;'
    : 'y[(size_t)b * p->units + i] = (int8_t)mm_clamp(mm_mbqm(acc, p->m2, p->s2) + p->out_zp, -128, 127);';
  return {
    ...(f ? {} : { deps: ['requant'] }),
    decl: `typedef struct {
  int32_t batch, in, filters, memory, rank, units;
  const ${X} *wf; const ${S} *wt; const ${f ? 'float' : 'int32_t'} *b; /* [filters][in], [filters][memory], [units] or NULL */
  ${f ? 'float lo, hi;' : 'int32_t in_zp, state_zp, out_zp, m1, s1, m2, s2;'}
} ${name}_t;
void ${name}(const ${name}_t *p, const ${X} *x, ${S} *state, ${X} *y);`,
    code: `/* TFLite SVDF (TFLM's reference): shift the state, feature filters into the newest slot, time filters per unit */
void ${name}(const ${name}_t *p, const ${X} *x, ${S} *state, ${X} *y) {
  const size_t n = (size_t)p->batch * p->filters * p->memory;
  for (size_t i = 0; i + 1 < n; i++) state[i] = state[i + 1];
  for (int32_t b = 0; b < p->batch; b++) {
    const ${X} *xb = x + (size_t)b * p->in;
    for (int32_t r = 0; r < p->filters; r++) {
      const ${X} *wf = p->wf + (size_t)r * p->in;
      ${feature}
    }
  }
  for (int32_t b = 0; b < p->batch; b++) {
    for (int32_t i = 0; i < p->units; i++) {
      ${acc} acc = p->b ? p->b[i] : 0;
      for (int32_t j = 0; j < p->rank; j++) {
        const int32_t fl = i * p->rank + j;
        const ${S} *wt = p->wt + (size_t)fl * p->memory, *sf = state + ((size_t)b * p->filters + fl) * p->memory;
        ${acc} s = 0;
        for (int32_t m = 0; m < p->memory; m++) s += ${term};
        acc += s;
      }
      ${store}
    }
  }
}`,
  };
}

/** TFLite's quantized ADD/SUB for one stored type (int8 with 20 bits of headroom, int16 with 15): the same C text
 *  but for the element type. */
function addKernel(t: 's8' | 's16', ctype: string, comment: string): KernelSource {
  return {
    deps: ['requant'],
    decl: `typedef struct {
  int32_t c, sub, left_shift;
  int32_t a_off, a_mult, a_shift, b_off, b_mult, b_shift, out_off, out_mult, out_shift, lo, hi;
} mm_add_${t}_t;
void mm_add_${t}(const mm_add_${t}_t *p, const ${ctype} *a, mm_view av, const ${ctype} *b, mm_view bv, ${ctype} *y, mm_view yv, mm_box o);`,
    code: `/* ${comment} */
void mm_add_${t}(const mm_add_${t}_t *p, const ${ctype} *a, mm_view av, const ${ctype} *b, mm_view bv, ${ctype} *y, mm_view yv, mm_box o) {
  for (int32_t h = o.h0; h < o.h1; h++) {
    for (int32_t w = o.w0; w < o.w1; w++) {
      for (int32_t c = 0; c < p->c; c++) {
        const int32_t u = ((int32_t)a[MM_AT(av, c, h, w)] + p->a_off) * (1 << p->left_shift);
        const int32_t v = ((int32_t)b[MM_AT(bv, c, h, w)] + p->b_off) * (1 << p->left_shift);
        const int32_t su = mm_mbqm(u, p->a_mult, p->a_shift);
        const int32_t sv = mm_mbqm(v, p->b_mult, p->b_shift);
        /* sub: 0 ADD, 1 SUB, 2 SQUARED_DIFFERENCE */
        const int32_t r = mm_mbqm(p->sub == 2 ? (su - sv) * (su - sv) : p->sub ? su - sv : su + sv, p->out_mult, p->out_shift) + p->out_off;
        y[MM_AT(yv, c, h, w)] = (${ctype})mm_clamp(r, p->lo, p->hi);
      }
    }
  }
}`,
  };
}

/** A float function applied element by element, chosen by p->fn among `fns` (a C enum), clamped to [lo, hi]. Each
 *  family is its own kernel so that a model links only the libm functions of the families it uses. `prelude`: a
 *  comment and helpers before the function; `cases`: the switch's cases, the last one `default`. */
function floatMapKernel(name: string, fns: string, fields: string, prelude: string, cases: string): KernelSource {
  const sig = `void mm_${name}(const mm_${name}_t *p, const float *x, mm_view xv, float *y, mm_view yv, mm_box o)`;
  return {
    decl: `enum { ${fns} };
typedef struct { int32_t c, fn; ${fields} } mm_${name}_t;
${sig};`,
    code: `${prelude}${sig} {
  for (int32_t h = o.h0; h < o.h1; h++) {
    for (int32_t w = o.w0; w < o.w1; w++) {
      for (int32_t c = 0; c < p->c; c++) {
        const float v = x[MM_AT(xv, c, h, w)];
        float r;
        switch (p->fn) {
${cases}
        }
        y[MM_AT(yv, c, h, w)] = r < p->lo ? p->lo : r > p->hi ? p->hi : r;
      }
    }
  }
}`,
  };
}

const INT_TYPES = { s8: ['int8_t', -128, 127], s16: ['int16_t', -32768, 32767], s32: ['int32_t', 'INT32_MIN', 'INT32_MAX'] } as const;

/** TFLM's Requantize from one integer type to another: (x - in_zp) rescaled by the Q31 multiplier and shift, plus the
 *  output zero point, clamped to the output type (the int32 sum is C's, as in TFLM). The int8 -> int8 one keeps its
 *  old name, mm_requant_s8. */
function requantKernel(from: keyof typeof INT_TYPES, to: keyof typeof INT_TYPES, comment: string): KernelSource {
  const name = from === 's8' && to === 's8' ? 'mm_requant_s8' : `mm_requant_${from}_${to}`;
  const [X] = INT_TYPES[from];
  const [Y, lo, hi] = INT_TYPES[to];
  return {
    deps: ['requant'],
    decl: `typedef struct { int32_t c, in_off, out_off, mult, shift; } ${name}_t;
void ${name}(const ${name}_t *p, const ${X} *x, mm_view xv, ${Y} *y, mm_view yv, mm_box o);`,
    code: `/* ${comment} */
void ${name}(const ${name}_t *p, const ${X} *x, mm_view xv, ${Y} *y, mm_view yv, mm_box o) {
  for (int32_t h = o.h0; h < o.h1; h++)
    for (int32_t w = o.w0; w < o.w1; w++)
      for (int32_t c = 0; c < p->c; c++) {
        const int32_t r = mm_mbqm((int32_t)x[MM_AT(xv, c, h, w)] + p->in_off, p->mult, p->shift) + p->out_off;
        y[MM_AT(yv, c, h, w)] = (${Y})mm_clamp(r, ${lo}, ${hi});
      }
}`,
  };
}

/** TFLM's int8 SOFTMAX (reference_ops::Softmax) to int8 or int16: per row, the exponentials of the differences from
 *  the maximum (a table, Q0.31) summed in Q12.19, gemmlowp's reciprocal of the sum, each exponential scaled by it. */
function softmaxKernel(to: 's8' | 's16'): KernelSource {
  const [Y, lo, hi] = INT_TYPES[to];
  const bits = to === 's8' ? 8 : 16;
  return {
    deps: ['softmax_q'],
    decl: `void mm_softmax_q_${to}(const mm_softmax_q_t *p, const int8_t *x, ${Y} *y);`,
    code: `/* TFLM's int8 softmax to ${Y} (reference_ops::Softmax): exp[d] is exp(-d input steps) in Q0.31 */
void mm_softmax_q_${to}(const mm_softmax_q_t *p, const int8_t *x, ${Y} *y) {
  for (int32_t r = 0; r < p->rows; r++) {
    const int8_t *xr = x + (size_t)r * p->n;
    ${Y} *yr = y + (size_t)r * p->n;
    int32_t mx;
    const int32_t sum = mm_exp_sum(xr, p->n, p->diff_min, p->exp, &mx);
    /* TFLite's GetReciprocal: the sum shifted to [1, 2), its reciprocal in Q0.31, the bits above one */
    const int32_t lz = mm_clz32((uint32_t)sum);
    const int32_t scale = mm_recip_q31((int32_t)(((uint32_t)sum << lz) - 0x80000000u));
    const int32_t e = 12 - lz + 31 - ${bits};
    for (int32_t i = 0; i < p->n; i++) {
      const int32_t d = mx - xr[i];
      if (-d >= p->diff_min) {
        const int32_t u = e > 31 ? 0 : mm_rdbpot(mm_srdhm(scale, p->exp[d]), e);
        yr[i] = (${Y})mm_clamp(u + ${lo}, ${lo}, ${hi});
      } else {
        yr[i] = ${lo};
      }
    }
  }
}`,
  };
}

/** ArgMax/ArgMin along one axis (the input as outer × n × inner): the first index of the extreme, or the last
 *  (ONNX select_last_index); as TFLite's ArgMinMax and onnxruntime. */
function argKernel(x: 'f32' | 's8' | 's16', y: 's32' | 's64'): KernelSource {
  const X = x === 'f32' ? 'float' : INT_TYPES[x][0];
  const Y = y === 's32' ? 'int32_t' : 'int64_t';
  return {
    deps: ['arg'],
    decl: `void mm_arg_${x}_${y}(const mm_arg_t *p, const ${X} *x, ${Y} *y);`,
    code: `void mm_arg_${x}_${y}(const mm_arg_t *p, const ${X} *x, ${Y} *y) {
  const size_t s = (size_t)p->inner;
  for (int32_t o = 0; o < p->outer; o++) {
    for (int32_t k = 0; k < p->inner; k++) {
      const ${X} *xr = x + (size_t)o * p->n * s + k;
      int32_t best = 0;
      for (int32_t i = 1; i < p->n; i++) {
        const ${X} v = xr[i * s], b = xr[best * s];
        if (p->min ? v < b : v > b) best = i;
        else if (p->last && v == b) best = i;
      }
      y[(size_t)o * s + k] = (${Y})best;
    }
  }
}`,
  };
}

/** TFLite's MAXIMUM and MINIMUM on int8 or int16 (inputs and output quantized alike): the larger or smaller code. */
function minmaxKernel(t: 's8' | 's16'): KernelSource {
  const [T] = INT_TYPES[t];
  return {
    decl: `typedef struct { int32_t c, min; } mm_minmax_${t}_t;
void mm_minmax_${t}(const mm_minmax_${t}_t *p, const ${T} *a, mm_view av, const ${T} *b, mm_view bv, ${T} *y, mm_view yv, mm_box o);`,
    code: `/* TFLite's ${t === 's8' ? 'int8' : 'int16'} MAXIMUM and MINIMUM (inputs and output quantized alike): the larger or smaller code */
void mm_minmax_${t}(const mm_minmax_${t}_t *p, const ${T} *a, mm_view av, const ${T} *b, mm_view bv, ${T} *y, mm_view yv, mm_box o) {
  for (int32_t h = o.h0; h < o.h1; h++)
    for (int32_t w = o.w0; w < o.w1; w++)
      for (int32_t c = 0; c < p->c; c++) {
        const ${T} u = a[MM_AT(av, c, h, w)], v = b[MM_AT(bv, c, h, w)];
        y[MM_AT(yv, c, h, w)] = p->min ? (u < v ? u : v) : (u > v ? u : v);
      }
}`,
  };
}

/** TFLM's quantized PRELU on int8 or int16, the slope int8 (reference_ops::BroadcastPrelu4DSlow). */
function preluKernel(t: 's8' | 's16'): KernelSource {
  const [T] = INT_TYPES[t];
  return {
    deps: ['prelu_q'],
    decl: `void mm_prelu_${t}(const mm_prelu_q_t *p, const ${T} *x, mm_view xv, const int8_t *a, mm_view av, ${T} *y, mm_view yv, mm_box o);`,
    code: `void mm_prelu_${t}(const mm_prelu_q_t *p, const ${T} *x, mm_view xv, const int8_t *a, mm_view av, ${T} *y, mm_view yv, mm_box o) {
  for (int32_t h = o.h0; h < o.h1; h++)
    for (int32_t w = o.w0; w < o.w1; w++)
      for (int32_t c = 0; c < p->c; c++) {
        const int32_t v = x[MM_AT(xv, c, h, w)] + p->in_off;
        const int32_t r = v >= 0 ? mm_mbqm(v, p->m1, p->s1) : mm_mbqm(v * (a[MM_AT(av, c, h, w)] + p->a_off), p->m2, p->s2);
        y[MM_AT(yv, c, h, w)] = (${T})mm_clamp(r + p->out_off, p->lo, p->hi);
      }
}`,
  };
}

/** TFLite's quantized MUL (reference_integer_ops::MulElementwise), int8 or int16 (whose zero points TFLM requires 0). */
function mulKernel(t: 's8' | 's16'): KernelSource {
  const [T] = INT_TYPES[t];
  return {
    deps: ['requant'],
    decl: `typedef struct { int32_t c, a_off, b_off, out_off, mult, shift, lo, hi; } mm_mul_${t}_t;
void mm_mul_${t}(const mm_mul_${t}_t *p, const ${T} *a, mm_view av, const ${T} *b, mm_view bv, ${T} *y, mm_view yv, mm_box o);`,
    code: `void mm_mul_${t}(const mm_mul_${t}_t *p, const ${T} *a, mm_view av, const ${T} *b, mm_view bv, ${T} *y, mm_view yv, mm_box o) {
  for (int32_t h = o.h0; h < o.h1; h++) {
    for (int32_t w = o.w0; w < o.w1; w++) {
      for (int32_t c = 0; c < p->c; c++) {
        const int32_t u = (int32_t)a[MM_AT(av, c, h, w)] + p->a_off;
        const int32_t v = (int32_t)b[MM_AT(bv, c, h, w)] + p->b_off;
        const int32_t r = mm_mbqm(u * v, p->mult, p->shift) + p->out_off;
        y[MM_AT(yv, c, h, w)] = (${T})mm_clamp(r, p->lo, p->hi);
      }
    }
  }
}`,
  };
}

/** Pooling on int8 or int16: TFLite's rounded average and max (and ONNX's requantizing average on int8). */
function poolKernel(t: 's8' | 's16'): KernelSource {
  const [T, lo] = INT_TYPES[t];
  return {
    deps: ['requant'],
    decl: `typedef struct {
  int32_t c, kh, kw, sh, sw, pt, pl, ih, iw;
  int32_t is_max, count_pad;
  /* requant: 0 = input and output share scale and zero point (TFLite); else out = round((mean - in_zp) * scale) + out_zp */
  int32_t requant, in_zp, out_zp;
  float scale;
  int32_t lo, hi;
} mm_pool_${t}_t;
void mm_pool_${t}(const mm_pool_${t}_t *p, const ${T} *x, mm_view xv, ${T} *y, mm_view yv, mm_box o);`,
    code: `void mm_pool_${t}(const mm_pool_${t}_t *p, const ${T} *x, mm_view xv, ${T} *y, mm_view yv, mm_box o) {
  for (int32_t oh = o.h0; oh < o.h1; oh++) {
    for (int32_t ow = o.w0; ow < o.w1; ow++) {
      const int32_t ih0 = oh * p->sh - p->pt, iw0 = ow * p->sw - p->pl;
      for (int32_t c = 0; c < p->c; c++) {
        int32_t acc = p->is_max ? ${lo} : 0, n = 0;
        for (int32_t ky = 0; ky < p->kh; ky++) {
          const int32_t ih = ih0 + ky;
          if (ih < 0 || ih >= p->ih) continue;
          for (int32_t kx = 0; kx < p->kw; kx++) {
            const int32_t iw = iw0 + kx;
            if (iw < 0 || iw >= p->iw) continue;
            const int32_t v = x[MM_AT(xv, c, ih, iw)];
            if (p->is_max) { if (v > acc) acc = v; } else acc += v;
            n++;
          }
        }
        if (p->count_pad && !p->is_max) { acc += (p->kh * p->kw - n) * p->in_zp; n = p->kh * p->kw; }
        int32_t v = acc;
        if (!p->is_max && n > 0) {
          if (p->requant) v = (int32_t)lroundf(((float)acc / (float)n - (float)p->in_zp) * p->scale) + p->out_zp;
          else v = acc > 0 ? (acc + n / 2) / n : (acc - n / 2) / n;
        }
        y[MM_AT(yv, c, oh, ow)] = (${T})mm_clamp(v, p->lo, p->hi);
      }
    }
  }
}`,
  };
}

/** The mean over the middle axis of [outer][n][inner] on int8 or int16 (TFLM's QuantizedMeanOrSum for both). */
function meanKernel(t: 's8' | 's16'): KernelSource {
  const [T, lo, hi] = INT_TYPES[t];
  return {
    deps: ['requant'],
    decl: `typedef struct { int32_t outer, n, inner, mode, in_zp, out_zp, multiplier, shift; float scale; } mm_mean_${t}_t;
void mm_mean_${t}(const mm_mean_${t}_t *p, const ${T} *x, ${T} *y);`,
    code: `/* ${t === 's8' ? 'int8' : 'int16'} mean over the middle of [outer][n][inner]. mode 0: TFLite's QuantizedMeanOrSum, in integers (the sum less
   n zero points, times the input/output scale ratio folded with 1/n into a Q31 multiplier and shift); mode 1: the
   rounded average (ONNX, equal scales); mode 2: rescaled in float (ONNX, different scales) */
void mm_mean_${t}(const mm_mean_${t}_t *p, const ${T} *x, ${T} *y) {
  for (int32_t o = 0; o < p->outer; o++)
    for (int32_t i = 0; i < p->inner; i++) {
      int32_t acc = 0;
      for (int32_t k = 0; k < p->n; k++) acc += x[((size_t)o * p->n + k) * p->inner + i];
      int32_t v;
      if (p->mode == 0) v = mm_mbqm(acc - p->in_zp * p->n, p->multiplier, p->shift) + p->out_zp;
      else if (p->mode == 2) v = (int32_t)lroundf(((float)acc / (float)p->n - (float)p->in_zp) * p->scale) + p->out_zp;
      else v = acc > 0 ? (acc + p->n / 2) / p->n : (acc - p->n / 2) / p->n;
      y[(size_t)o * p->inner + i] = (${T})mm_clamp(v, ${lo}, ${hi});
    }
}`,
  };
}

/** (x − zero point) · scale from int8 (mm_dequantize) or int16 (mm_dequantize_s16); TFLM's double product of a float
 *  scale and a 17-bit integer is exact, so its rounding to float equals this float product. */
function dequantizeKernel(t: 's8' | 's16'): KernelSource {
  const [T] = INT_TYPES[t];
  const n = t === 's8' ? 'mm_dequantize' : 'mm_dequantize_s16';
  return {
    decl: `typedef struct { int32_t c, zp; float scale; } ${n}_t;
void ${n}(const ${n}_t *p, const ${T} *x, mm_view xv, float *y, mm_view yv, mm_box o);`,
    code: `void ${n}(const ${n}_t *p, const ${T} *x, mm_view xv, float *y, mm_view yv, mm_box o) {
  for (int32_t h = o.h0; h < o.h1; h++)
    for (int32_t w = o.w0; w < o.w1; w++)
      for (int32_t c = 0; c < p->c; c++) y[MM_AT(yv, c, h, w)] = (float)((int32_t)x[MM_AT(xv, c, h, w)] - p->zp) * p->scale;
}`,
  };
}

export const KERNELS: Readonly<Record<string, KernelSource>> = {
  requant: {
    decl: `int32_t mm_mbqm(int32_t x, int32_t multiplier, int32_t shift);
static inline int32_t mm_clamp(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : v > hi ? hi : v; }
static inline int32_t mm_clz32(uint32_t v) { int32_t n = 0; while (n < 32 && !(v & 0x80000000u)) { v <<= 1; n++; } return n; }
static inline int32_t mm_c16(int32_t v) { return v < -32768 ? -32768 : v > 32767 ? 32767 : v; }
/* TFLite MultiplyByQuantizedMultiplier for a 64-bit accumulator: the multiplier reduced to 16 bits, one rounding */
static inline int32_t mm_mbqm64(int64_t x, int32_t multiplier, int32_t shift) {
  const int32_t reduced = multiplier < 0x7FFF0000 ? ((multiplier + (1 << 15)) >> 16) : 0x7FFF;
  const int32_t total = 15 - shift;
  return (int32_t)((x * (int64_t)reduced + ((int64_t)1 << (total - 1))) >> total);
}`,
    code: `/* gemmlowp SaturatingRoundingDoublingHighMul */
static int32_t mm_srdhm(int32_t a, int32_t b) {
  if (a == b && a == INT32_MIN) return INT32_MAX;
  const int64_t ab = (int64_t)a * (int64_t)b;
  const int64_t nudge = ab >= 0 ? ((int64_t)1 << 30) : (1 - ((int64_t)1 << 30));
  return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}
/* gemmlowp RoundingDivideByPOT */
static int32_t mm_rdbpot(int32_t x, int32_t exponent) {
  const int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
  const int32_t remainder = x & mask;
  const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
  return (x >> exponent) + (remainder > threshold ? 1 : 0);
}
/* TFLite MultiplyByQuantizedMultiplier */
int32_t mm_mbqm(int32_t x, int32_t multiplier, int32_t shift) {
  const int32_t left = shift > 0 ? shift : 0;
  const int32_t right = shift > 0 ? 0 : -shift;
  return mm_rdbpot(mm_srdhm((int32_t)((uint32_t)x << left), multiplier), right);
}`,
  },

  conv_f32: {
    decl: `typedef struct {
  int32_t cin, cout, groups, kh, kw, sh, sw, dh, dw, pt, pl, ih, iw;
  const float *w; /* [cout][kh][kw][cin/groups] */
  const float *b; /* [cout] or NULL */
  float lo, hi;
} mm_conv_f32_t;
void mm_conv_f32(const mm_conv_f32_t *p, const float *x, mm_view xv, float *y, mm_view yv, mm_box o);`,
    code: `void mm_conv_f32(const mm_conv_f32_t *p, const float *x, mm_view xv, float *y, mm_view yv, mm_box o) {
  const int32_t cig = p->cin / p->groups, cog = p->cout / p->groups;
  for (int32_t oh = o.h0; oh < o.h1; oh++) {
    for (int32_t ow = o.w0; ow < o.w1; ow++) {
      const int32_t ih0 = oh * p->sh - p->pt, iw0 = ow * p->sw - p->pl;
      for (int32_t oc = 0; oc < p->cout; oc++) {
        const int32_t c0 = (oc / cog) * cig;
        const float *wc = p->w + (size_t)oc * p->kh * p->kw * cig;
        float acc = 0.0f;
        for (int32_t ky = 0; ky < p->kh; ky++) {
          const int32_t ih = ih0 + ky * p->dh;
          if (ih < 0 || ih >= p->ih) continue;
          for (int32_t kx = 0; kx < p->kw; kx++) {
            const int32_t iw = iw0 + kx * p->dw;
            if (iw < 0 || iw >= p->iw) continue;
            const float *xp = x + MM_AT(xv, c0, ih, iw);
            const float *wp = wc + (ky * p->kw + kx) * cig;
            for (int32_t ic = 0; ic < cig; ic++) acc += xp[ic * xv.sc] * wp[ic];
          }
        }
        acc += p->b ? p->b[oc] : 0.0f; /* the bias last, as TFLite's reference kernels add it */
        y[MM_AT(yv, oc, oh, ow)] = acc < p->lo ? p->lo : acc > p->hi ? p->hi : acc;
      }
    }
  }
}`,
  },

  conv_s8: {
    deps: ['requant'],
    decl: `typedef struct {
  int32_t cin, cout, groups, kh, kw, sh, sw, dh, dw, pt, pl, ih, iw;
  const int8_t *w; /* [cout][kh][kw][cin/groups] */
  const int32_t *b; /* [cout] or NULL */
  const int32_t *mult, *shift; /* per output channel */
  int32_t in_off, w_off, out_off, lo, hi;
} mm_conv_s8_t;
void mm_conv_s8(const mm_conv_s8_t *p, const int8_t *x, mm_view xv, int8_t *y, mm_view yv, mm_box o);`,
    code: `void mm_conv_s8(const mm_conv_s8_t *p, const int8_t *x, mm_view xv, int8_t *y, mm_view yv, mm_box o) {
  const int32_t cig = p->cin / p->groups, cog = p->cout / p->groups;
  for (int32_t oh = o.h0; oh < o.h1; oh++) {
    for (int32_t ow = o.w0; ow < o.w1; ow++) {
      const int32_t ih0 = oh * p->sh - p->pt, iw0 = ow * p->sw - p->pl;
      for (int32_t oc = 0; oc < p->cout; oc++) {
        const int32_t c0 = (oc / cog) * cig;
        const int8_t *wc = p->w + (size_t)oc * p->kh * p->kw * cig;
        int32_t acc = p->b ? p->b[oc] : 0;
        for (int32_t ky = 0; ky < p->kh; ky++) {
          const int32_t ih = ih0 + ky * p->dh;
          if (ih < 0 || ih >= p->ih) continue;
          for (int32_t kx = 0; kx < p->kw; kx++) {
            const int32_t iw = iw0 + kx * p->dw;
            if (iw < 0 || iw >= p->iw) continue;
            const int8_t *xp = x + MM_AT(xv, c0, ih, iw);
            const int8_t *wp = wc + (ky * p->kw + kx) * cig;
            for (int32_t ic = 0; ic < cig; ic++) acc += ((int32_t)xp[ic * xv.sc] + p->in_off) * ((int32_t)wp[ic] + p->w_off);
          }
        }
        const int32_t v = mm_mbqm(acc, p->mult[oc], p->shift[oc]) + p->out_off;
        y[MM_AT(yv, oc, oh, ow)] = (int8_t)mm_clamp(v, p->lo, p->hi);
      }
    }
  }
}`,
  },

  tconv_f32: tconvKernel('f32'),

  tconv_s8: tconvKernel('s8'),

  tconv_s16: tconvKernel('s16'),

  conv_s16: {
    deps: ['requant'],
    decl: `typedef struct {
  int32_t cin, cout, groups, kh, kw, sh, sw, dh, dw, pt, pl, ih, iw;
  const int8_t *w; /* [cout][kh][kw][cin/groups] */
  const int32_t *b; /* [cout] or NULL */
  const int32_t *mult, *shift; /* per output channel */
  int32_t acc64, lo, hi; /* acc64: TFLM's int64 bias, accumulator and rescaling; else its int32 ones */
} mm_conv_s16_t;
void mm_conv_s16(const mm_conv_s16_t *p, const int16_t *x, mm_view xv, int16_t *y, mm_view yv, mm_box o);`,
    code: `/* TFLM's int16x8 convolution (reference_integer_ops::ConvPerChannel, DepthwiseConvPerChannel): int16 activations
   and int8 weights, both zero points 0 */
void mm_conv_s16(const mm_conv_s16_t *p, const int16_t *x, mm_view xv, int16_t *y, mm_view yv, mm_box o) {
  const int32_t cig = p->cin / p->groups, cog = p->cout / p->groups;
  for (int32_t oh = o.h0; oh < o.h1; oh++) {
    for (int32_t ow = o.w0; ow < o.w1; ow++) {
      const int32_t ih0 = oh * p->sh - p->pt, iw0 = ow * p->sw - p->pl;
      for (int32_t oc = 0; oc < p->cout; oc++) {
        const int32_t c0 = (oc / cog) * cig;
        const int8_t *wc = p->w + (size_t)oc * p->kh * p->kw * cig;
        int64_t acc = 0;
        for (int32_t ky = 0; ky < p->kh; ky++) {
          const int32_t ih = ih0 + ky * p->dh;
          if (ih < 0 || ih >= p->ih) continue;
          for (int32_t kx = 0; kx < p->kw; kx++) {
            const int32_t iw = iw0 + kx * p->dw;
            if (iw < 0 || iw >= p->iw) continue;
            const int16_t *xp = x + MM_AT(xv, c0, ih, iw);
            const int8_t *wp = wc + (ky * p->kw + kx) * cig;
            for (int32_t ic = 0; ic < cig; ic++) acc += (int32_t)xp[ic * xv.sc] * (int32_t)wp[ic];
          }
        }
        if (p->b) acc += p->b[oc];
        const int32_t v = p->acc64 ? mm_mbqm64(acc, p->mult[oc], p->shift[oc]) : mm_mbqm((int32_t)acc, p->mult[oc], p->shift[oc]);
        y[MM_AT(yv, oc, oh, ow)] = (int16_t)mm_clamp(v, p->lo, p->hi);
      }
    }
  }
}`,
  },

  pool_f32: {
    decl: `typedef struct {
  int32_t c, kh, kw, sh, sw, pt, pl, ih, iw;
  int32_t is_max, count_pad;
  float lo, hi;
} mm_pool_f32_t;
void mm_pool_f32(const mm_pool_f32_t *p, const float *x, mm_view xv, float *y, mm_view yv, mm_box o);`,
    code: `void mm_pool_f32(const mm_pool_f32_t *p, const float *x, mm_view xv, float *y, mm_view yv, mm_box o) {
  for (int32_t oh = o.h0; oh < o.h1; oh++) {
    for (int32_t ow = o.w0; ow < o.w1; ow++) {
      const int32_t ih0 = oh * p->sh - p->pt, iw0 = ow * p->sw - p->pl;
      for (int32_t c = 0; c < p->c; c++) {
        float acc = p->is_max ? -INFINITY : 0.0f;
        int32_t n = 0;
        for (int32_t ky = 0; ky < p->kh; ky++) {
          const int32_t ih = ih0 + ky;
          if (ih < 0 || ih >= p->ih) continue;
          for (int32_t kx = 0; kx < p->kw; kx++) {
            const int32_t iw = iw0 + kx;
            if (iw < 0 || iw >= p->iw) continue;
            const float v = x[MM_AT(xv, c, ih, iw)];
            if (p->is_max) { if (v > acc) acc = v; } else acc += v;
            n++;
          }
        }
        if (!p->is_max) acc /= (float)(p->count_pad ? p->kh * p->kw : (n > 0 ? n : 1));
        y[MM_AT(yv, c, oh, ow)] = acc < p->lo ? p->lo : acc > p->hi ? p->hi : acc;
      }
    }
  }
}`,
  },

  pool_s8: poolKernel('s8'),
  pool_s16: poolKernel('s16'),
  gpool_row_f32: {
    deps: ['pool_f32'],
    decl: `/* Global pooling one input row at a time (a line-buffered stream): columns [w0, w1) of row r added into acc (one
 * float per channel; first starts the sums), the output written after the last row, with the same arithmetic,
 * in the same order (full rows), as mm_pool_f32. */
void mm_gpool_row_f32(const mm_pool_f32_t *p, const float *x, mm_view xv, int32_t r, int32_t w0, int32_t w1, int32_t first, int32_t last, float *acc, float *y, mm_view yv);`,
    code: `void mm_gpool_row_f32(const mm_pool_f32_t *p, const float *x, mm_view xv, int32_t r, int32_t w0, int32_t w1, int32_t first, int32_t last, float *acc, float *y, mm_view yv) {
  for (int32_t c = 0; c < p->c; c++) {
    float a = first ? (p->is_max ? -INFINITY : 0.0f) : acc[c];
    for (int32_t iw = w0; iw < w1; iw++) {
      const float v = x[MM_AT(xv, c, r, iw)];
      if (p->is_max) { if (v > a) a = v; } else a += v;
    }
    acc[c] = a;
    if (last) {
      if (!p->is_max) a /= (float)(p->ih * p->iw > 0 ? p->ih * p->iw : 1);
      y[MM_AT(yv, c, 0, 0)] = a < p->lo ? p->lo : a > p->hi ? p->hi : a;
    }
  }
}`,
  },
  gpool_row_s8: {
    deps: ['pool_s8'],
    decl: `/* Global pooling one input row at a time (int8): int32 sums per channel in acc, finished as mm_pool_s8 does; the
 * columns, first and last as mm_gpool_row_f32's (any order of bands gives the same integer sums). */
void mm_gpool_row_s8(const mm_pool_s8_t *p, const int8_t *x, mm_view xv, int32_t r, int32_t w0, int32_t w1, int32_t first, int32_t last, int32_t *acc, int8_t *y, mm_view yv);`,
    code: `void mm_gpool_row_s8(const mm_pool_s8_t *p, const int8_t *x, mm_view xv, int32_t r, int32_t w0, int32_t w1, int32_t first, int32_t last, int32_t *acc, int8_t *y, mm_view yv) {
  for (int32_t c = 0; c < p->c; c++) {
    int32_t a = first ? (p->is_max ? -128 : 0) : acc[c];
    for (int32_t iw = w0; iw < w1; iw++) {
      const int32_t v = x[MM_AT(xv, c, r, iw)];
      if (p->is_max) { if (v > a) a = v; } else a += v;
    }
    acc[c] = a;
    if (last) {
      const int32_t n = p->ih * p->iw;
      int32_t v = a;
      if (!p->is_max && n > 0) {
        if (p->requant) v = (int32_t)lroundf(((float)a / (float)n - (float)p->in_zp) * p->scale) + p->out_zp;
        else v = a > 0 ? (a + n / 2) / n : (a - n / 2) / n;
      }
      y[MM_AT(yv, c, 0, 0)] = (int8_t)mm_clamp(v, p->lo, p->hi);
    }
  }
}`,
  },

  fc_f32: {
    decl: `typedef struct {
  int32_t rows, k, n;
  const float *w; /* [n][k] */
  const float *b; /* [n] or NULL */
  float lo, hi;
} mm_fc_f32_t;
void mm_fc_f32(const mm_fc_f32_t *p, const float *x, float *y);`,
    code: `void mm_fc_f32(const mm_fc_f32_t *p, const float *x, float *y) {
  for (int32_t r = 0; r < p->rows; r++) {
    const float *xr = x + (size_t)r * p->k;
    for (int32_t o = 0; o < p->n; o++) {
      const float *wr = p->w + (size_t)o * p->k;
      float acc = 0.0f;
      for (int32_t i = 0; i < p->k; i++) acc += xr[i] * wr[i];
      acc += p->b ? p->b[o] : 0.0f; /* the bias last, as TFLite's reference kernels add it */
      y[(size_t)r * p->n + o] = acc < p->lo ? p->lo : acc > p->hi ? p->hi : acc;
    }
  }
}`,
  },

  matmul_f32: {
    decl: `typedef struct {
  int32_t batch, m, k, n;
  const int32_t *a_off, *b_off; /* per output batch: where its A and B start (numpy batch broadcasting) */
  int32_t a_rs, a_cs, b_rs, b_cs, c_rs, c_cs; /* element strides of rows and columns (transposes, broadcast C) */
  float alpha, beta, lo, hi;
} mm_matmul_f32_t;
void mm_matmul_f32(const mm_matmul_f32_t *p, const float *a, const float *b, const float *c, float *y);`,
    code: `/* y[t] = alpha * A[t] B[t] + beta * C (ONNX MatMul and Gemm whose operands are computed at run time or stored
   with more than two axes); c may be NULL */
void mm_matmul_f32(const mm_matmul_f32_t *p, const float *a, const float *b, const float *c, float *y) {
  for (int32_t t = 0; t < p->batch; t++) {
    const float *at = a + p->a_off[t], *bt = b + p->b_off[t];
    for (int32_t i = 0; i < p->m; i++) {
      for (int32_t j = 0; j < p->n; j++) {
        float acc = 0.0f;
        for (int32_t q = 0; q < p->k; q++) acc += at[i * p->a_rs + q * p->a_cs] * bt[q * p->b_rs + j * p->b_cs];
        float v = p->alpha * acc;
        if (c) v += p->beta * c[i * p->c_rs + j * p->c_cs];
        y[((size_t)t * p->m + i) * p->n + j] = v < p->lo ? p->lo : v > p->hi ? p->hi : v;
      }
    }
  }
}`,
  },

  lstm_f32: {
    decl: `typedef struct {
  int32_t seq, dirs, batch, in, hid, reverse; /* reverse: a single direction run backwards */
  float clip; /* > 0: gate pre-activations clipped to [-clip, clip] */
} mm_lstm_f32_t;
/* the operands of one LSTM: W [dirs][4*hid][in], R [dirs][4*hid][hid] (gates i, o, f, c), B [dirs][8*hid] (input then
   recurrent biases), P [dirs][3*hid] (peepholes i, o, f); stored or computed; B and P may be NULL */
void mm_lstm_f32(const mm_lstm_f32_t *p, const float *x, const float *w, const float *r, const float *b, const float *pe,
                 const float *h0, const float *c0, float *y, float *yh, float *yc);`,
    code: `typedef struct { const mm_lstm_f32_t *p; const float *w, *r, *b; } mm_lstm_ops;
static float mm_lstm_gate(const mm_lstm_ops *o, int32_t d, int32_t g, int32_t j, const float *xt, const float *hp) {
  const mm_lstm_f32_t *p = o->p;
  const int32_t row = g * p->hid + j;
  const float *w = o->w + ((size_t)d * 4 * p->hid + row) * p->in, *r = o->r + ((size_t)d * 4 * p->hid + row) * p->hid;
  float acc = o->b ? o->b[(size_t)d * 8 * p->hid + row] + o->b[(size_t)d * 8 * p->hid + 4 * p->hid + row] : 0.0f;
  for (int32_t k = 0; k < p->in; k++) acc += w[k] * xt[k];
  if (hp) for (int32_t k = 0; k < p->hid; k++) acc += r[k] * hp[k];
  return acc;
}
static float mm_lstm_clip(const mm_lstm_f32_t *p, float v) { return p->clip > 0.0f ? (v < -p->clip ? -p->clip : v > p->clip ? p->clip : v) : v; }
static float mm_lstm_sigmoid(float v) { return 1.0f / (1.0f + expf(-v)); }
/* ONNX LSTM over the whole sequence. x [seq][batch][in], y [seq][dirs][batch][hid], h0/c0/yh/yc [dirs][batch][hid]
   (NULL: zeros / not wanted). The cell state of step t-1 is kept in y's slot for step t, each unit read there before
   its new h is written, so the kernel needs no memory besides its outputs. */
void mm_lstm_f32(const mm_lstm_f32_t *p, const float *x, const float *w, const float *r, const float *b, const float *peep,
                 const float *h0, const float *c0, float *y, float *yh, float *yc) {
  const int32_t H = p->hid, slot = p->dirs * p->batch * H;
  const mm_lstm_ops ops = {p, w, r, b}, *o = &ops;
  for (int32_t d = 0; d < p->dirs; d++) {
    const int32_t back = d == 1 || p->reverse;
    const float *pe = peep ? peep + (size_t)d * 3 * H : NULL;
    for (int32_t bb = 0; bb < p->batch; bb++) {
      const size_t at = ((size_t)d * p->batch + bb) * H;
      for (int32_t s = 0; s < p->seq; s++) {
        const int32_t t = back ? p->seq - 1 - s : s, tn = back ? t - 1 : t + 1, tp = back ? t + 1 : t - 1;
        const float *xt = x + ((size_t)t * p->batch + bb) * p->in;
        const float *hp = s == 0 ? (h0 ? h0 + at : NULL) : y + (size_t)tp * slot + at;
        float *ht = y + (size_t)t * slot + at;
        for (int32_t j = 0; j < H; j++) {
          const float cp = s == 0 ? (c0 ? c0[at + j] : 0.0f) : ht[j];
          const float gi = mm_lstm_sigmoid(mm_lstm_clip(p, mm_lstm_gate(o, d, 0, j, xt, hp) + (pe ? pe[j] * cp : 0.0f)));
          const float gf = mm_lstm_sigmoid(mm_lstm_clip(p, mm_lstm_gate(o, d, 2, j, xt, hp) + (pe ? pe[2 * H + j] * cp : 0.0f)));
          const float gc = tanhf(mm_lstm_clip(p, mm_lstm_gate(o, d, 3, j, xt, hp)));
          const float c = gf * cp + gi * gc;
          const float go = mm_lstm_sigmoid(mm_lstm_clip(p, mm_lstm_gate(o, d, 1, j, xt, hp) + (pe ? pe[H + j] * c : 0.0f)));
          ht[j] = go * tanhf(c);
          if (s + 1 < p->seq) y[(size_t)tn * slot + at + j] = c;
          else if (yc) yc[at + j] = c;
        }
        if (s + 1 == p->seq && yh) for (int32_t j = 0; j < H; j++) yh[at + j] = ht[j];
      }
    }
  }
}`,
  },

  lstm_tfl_f32: {
    decl: `typedef struct {
  int32_t batch, time, in, hid, time_major;
  float cell_clip; /* > 0: the cell state clipped to [-cell_clip, cell_clip] */
  const float *w[4], *r[4], *b[4]; /* gates forget, input, cell, output: [hid][in], [hid][hid], [hid] */
} mm_lstm_tfl_f32_t;
void mm_lstm_tfl_f32(const mm_lstm_tfl_f32_t *p, const float *x, float *h, float *c, float *y);`,
    code: `static float mm_tfl_dot(const float *v, const float *w, int32_t n) {
  float t = 0.0f;
  for (int32_t k = 0; k < n; k++) t += v[k] * w[k];
  return t;
}
static float mm_tfl_logistic(float v) { return v > 16.619047164916992188f ? 1.0f : v < -9.0f ? expf(v) : 1.0f / (1.0f + expf(-v)); }
/* TFLite's UNIDIRECTIONAL_SEQUENCE_LSTM in float, as TFLM's lstm_eval computes it (gate = (input FC + bias) +
   recurrent FC, the reference logistic with its cutoffs, cell = forget*cell + input*gate, then clipped, hidden =
   tanh(cell)*output), unit by unit: h and c are the state tensors (kept from run to run), y [batch][time][hid] (or
   time major); the hidden state of step t-1 is read from y, so the kernel needs no memory of its own. */
${lstmLoop('f32', 'float', 'float', `        float g[4];
        for (int32_t q = 0; q < 4; q++) {
          const float fi = mm_tfl_dot(xt, p->w[q] + (size_t)j * p->in, p->in) + (p->b[q] ? p->b[q][j] : 0.0f);
          const float fr = mm_tfl_dot(hp, p->r[q] + (size_t)j * H, H) + 0.0f;
          g[q] = fi + fr;
        }
        const float forget = mm_tfl_logistic(g[0]), input = mm_tfl_logistic(g[1]), gate = tanhf(g[2]), out = mm_tfl_logistic(g[3]);
        float cell = forget * cb[j];
        const float add = input * gate;
        cell = cell + add;
        if (p->cell_clip > 0.0f) cell = cell > p->cell_clip ? p->cell_clip : cell < -p->cell_clip ? -p->cell_clip : cell;
        cb[j] = cell;
        yt[j] = tanhf(cell) * out;
`)}`,
  },

  svdf_f32: svdfKernel('f32'),

  svdf_s8_s16: svdfKernel('s8_s16'),

  svdf_s8_s8: svdfKernel('s8_s8'),

  qtab16: {
    decl: `int32_t mm_q_sigmoid(const int32_t *T, int32_t x, int32_t mult, int32_t shift);
int32_t mm_q_tanh(const int32_t *T, int32_t x, int32_t mult, int32_t shift);`,
    code: `/* TFLM's int16 logistic and tanh (reference_integer_ops::Logistic/Tanh): the input scaled by mult and a rounding
   right shift, then linear interpolation in the 256-entry sigmoid table T (tanh(x) = 2 sigmoid(2x) - 1); Q0.15 out */
int32_t mm_q_sigmoid(const int32_t *T, int32_t x, int32_t mult, int32_t shift) {
  const int32_t in = (x * mult + (shift > 0 ? 1 << (shift - 1) : 0)) >> shift;
  const uint32_t a = (uint32_t)(in < 0 ? -in : in), uh = a >> 9;
  uint32_t r;
  if (uh >= 255) r = 0x7FFFu << 10;
  else { const uint32_t ua = (uint32_t)T[uh], ub = (uint32_t)T[uh + 1]; r = (ua << 9) + (a & 0x1ffu) * (ub - ua); }
  r = in >= 0 ? r + (1u << 9) : (1u << 25) - r + (1u << 9) - 1u;
  return (int16_t)(r >> 10);
}
int32_t mm_q_tanh(const int32_t *T, int32_t x, int32_t mult, int32_t shift) {
  const int32_t in = (x * mult + (shift > 0 ? 1 << (shift - 1) : 0)) >> shift;
  const uint32_t a = (uint32_t)(in < 0 ? -in : in), uh = a >> 8;
  int32_t r;
  if (uh >= 255) r = 0xFFFF << 8;
  else { const uint32_t ua = (uint32_t)T[uh], ub = (uint32_t)T[uh + 1]; r = (int32_t)((ua << 8) + (a & 0xFFu) * (ub - ua)); }
  r = in >= 0 ? (r - (1 << 23) + (1 << 7)) : (-r + (1 << 23) + (1 << 7) - 1);
  return (int16_t)(r >> 8);
}`,
  },

  act_s16: {
    deps: ['qtab16'],
    decl: `typedef struct { int32_t c, tanh, mult, shift; const int32_t *sig; } mm_act_s16_t;
void mm_act_s16(const mm_act_s16_t *p, const int16_t *x, mm_view xv, int16_t *y, mm_view yv, mm_box o);`,
    code: `/* TFLite's int16 LOGISTIC and TANH as TFLM computes them */
void mm_act_s16(const mm_act_s16_t *p, const int16_t *x, mm_view xv, int16_t *y, mm_view yv, mm_box o) {
  for (int32_t h = o.h0; h < o.h1; h++)
    for (int32_t w = o.w0; w < o.w1; w++)
      for (int32_t c = 0; c < p->c; c++) {
        const int32_t v = x[MM_AT(xv, c, h, w)];
        y[MM_AT(yv, c, h, w)] = (int16_t)(p->tanh ? mm_q_tanh(p->sig, v, p->mult, p->shift) : mm_q_sigmoid(p->sig, v, p->mult, p->shift));
      }
}`,
  },

  lstm_tfl_s8: lstmIntKernel('s8'),
  lstm_tfl_s16: lstmIntKernel('s16'),

  fc_s8: {
    deps: ['requant'],
    decl: `typedef struct {
  int32_t rows, k, n;
  const int8_t *w; /* [n][k] */
  const int32_t *b; /* [n] or NULL */
  const int32_t *mult, *shift; /* [n], or [1] when per_channel is 0 */
  int32_t per_channel, in_off, w_off, out_off, lo, hi;
} mm_fc_s8_t;
void mm_fc_s8(const mm_fc_s8_t *p, const int8_t *x, int8_t *y);`,
    code: `void mm_fc_s8(const mm_fc_s8_t *p, const int8_t *x, int8_t *y) {
  for (int32_t r = 0; r < p->rows; r++) {
    const int8_t *xr = x + (size_t)r * p->k;
    for (int32_t o = 0; o < p->n; o++) {
      const int8_t *wr = p->w + (size_t)o * p->k;
      int32_t acc = p->b ? p->b[o] : 0;
      for (int32_t i = 0; i < p->k; i++) acc += ((int32_t)xr[i] + p->in_off) * ((int32_t)wr[i] + p->w_off);
      const int32_t c = p->per_channel ? o : 0;
      const int32_t v = mm_mbqm(acc, p->mult[c], p->shift[c]) + p->out_off;
      y[(size_t)r * p->n + o] = (int8_t)mm_clamp(v, p->lo, p->hi);
    }
  }
}`,
  },

  binary_f32: {
    decl: `enum { MM_ADD, MM_SUB, MM_MUL, MM_DIV, MM_MAX, MM_MIN, MM_PRELU, MM_SQDIFF };
typedef struct { int32_t c, op; float lo, hi; } mm_binary_f32_t;
void mm_binary_f32(const mm_binary_f32_t *p, const float *a, mm_view av, const float *b, mm_view bv, float *y, mm_view yv, mm_box o);`,
    code: `void mm_binary_f32(const mm_binary_f32_t *p, const float *a, mm_view av, const float *b, mm_view bv, float *y, mm_view yv, mm_box o) {
  for (int32_t h = o.h0; h < o.h1; h++) {
    for (int32_t w = o.w0; w < o.w1; w++) {
      for (int32_t c = 0; c < p->c; c++) {
        const float u = a[MM_AT(av, c, h, w)], v = b[MM_AT(bv, c, h, w)];
        float r;
        switch (p->op) {
          case MM_ADD: r = u + v; break;
          case MM_SUB: r = u - v; break;
          case MM_MUL: r = u * v; break;
          case MM_DIV: r = u / v; break;
          case MM_MAX: r = u > v ? u : v; break;
          case MM_MIN: r = u < v ? u : v; break;
          case MM_SQDIFF: r = (u - v) * (u - v); break;
          default: r = u >= 0.0f ? u : u * v; break; /* PRelu: v is the slope */
        }
        y[MM_AT(yv, c, h, w)] = r < p->lo ? p->lo : r > p->hi ? p->hi : r;
      }
    }
  }
}`,
  },

  svm_f32: {
    decl: `#define MM_SVM_MAX_CLASSES 8
typedef struct { int32_t rows, features, classes, vectors, kernel; float degree, gamma, coef0; const float *sv, *coef, *rho, *prob_a, *prob_b; const int32_t *start, *count, *labels; } mm_svm_f32_t;
void mm_svm_f32(const mm_svm_f32_t *p, const float *x, int64_t *label, float *scores);`,
    code: `/* An SVM of support vectors (ai.onnx.ml.SVMClassifier, SVC): per pair of classes i < j its decision, rho plus the
   kernel values of class i's vectors weighted by row j - 1 of the coefficients and class j's by row i; a vote to i when
   positive, else to j; the label of the most votes (the first on a tie). With prob_a/prob_b the scores are the
   classes' probabilities, the pairwise ones (Platt's sigmoid, clamped to [1e-7, 1 - 1e-7]) coupled as libsvm's
   multiclass_probability does; without, the decisions themselves. The coupling's matrix lives on the stack
   (MM_SVM_MAX_CLASSES squared floats). */
static float mm_svm_kernel(const mm_svm_f32_t *p, const float *a, const float *b) {
  float s = 0.0f;
  if (p->kernel == 2) {
    for (int32_t f = 0; f < p->features; f++) { const float d = a[f] - b[f]; s += d * d; }
    return expf(-p->gamma * s);
  }
  for (int32_t f = 0; f < p->features; f++) s += a[f] * b[f];
  if (p->kernel == 1) return powf(s * p->gamma + p->coef0, p->degree);
  if (p->kernel == 3) return tanhf(s * p->gamma + p->coef0);
  return s;
}

void mm_svm_f32(const mm_svm_f32_t *p, const float *x, int64_t *label, float *scores) {
  const int32_t k = p->classes, pairs = k * (k - 1) / 2;
  for (int32_t n = 0; n < p->rows; n++) {
    const float *xn = x + (size_t)n * p->features;
    int32_t votes[MM_SVM_MAX_CLASSES] = {0};
    float q[MM_SVM_MAX_CLASSES][MM_SVM_MAX_CLASSES] = {{0.0f}};
    int32_t e = 0;
    for (int32_t i = 0; i < k; i++) {
      for (int32_t j = i + 1; j < k; j++, e++) {
        float s1 = 0.0f, s2 = 0.0f;
        for (int32_t v = p->start[i]; v < p->start[i] + p->count[i]; v++) s1 += p->coef[(size_t)(j - 1) * p->vectors + v] * mm_svm_kernel(p, xn, p->sv + (size_t)v * p->features);
        for (int32_t v = p->start[j]; v < p->start[j] + p->count[j]; v++) s2 += p->coef[(size_t)i * p->vectors + v] * mm_svm_kernel(p, xn, p->sv + (size_t)v * p->features);
        const float d = p->rho[e] + s1 + s2;
        if (d > 0.0f) votes[i]++;
        else votes[j]++;
        if (p->prob_a) {
          float r = 1.0f - 1.0f / (1.0f + expf(-(d * p->prob_a[e] + p->prob_b[e])));
          r = r < 1e-7f ? 1e-7f : r > 1.0f - 1e-7f ? 1.0f - 1e-7f : r;
          q[i][j] = q[j][i] = -r * (1.0f - r);
          q[i][i] += (1.0f - r) * (1.0f - r);
          q[j][j] += r * r;
        } else if (scores) {
          scores[(size_t)n * pairs + e] = d;
        }
      }
    }
    int32_t best = 0;
    for (int32_t c = 1; c < k; c++) if (votes[c] > votes[best]) best = c;
    if (label) label[n] = p->labels[best];
    if (!p->prob_a || !scores) continue;
    float pr[MM_SVM_MAX_CLASSES], qp[MM_SVM_MAX_CLASSES];
    for (int32_t t = 0; t < k; t++) pr[t] = 1.0f / (float)k;
    const float eps = 0.005f / (float)k;
    for (int32_t it = 0; it < (k > 100 ? k : 100); it++) {
      float pqp = 0.0f, worst = 0.0f;
      for (int32_t t = 0; t < k; t++) {
        qp[t] = 0.0f;
        for (int32_t j = 0; j < k; j++) qp[t] += q[t][j] * pr[j];
        pqp += pr[t] * qp[t];
      }
      for (int32_t t = 0; t < k; t++) { const float err = fabsf(qp[t] - pqp); if (err > worst) worst = err; }
      if (worst < eps) break;
      for (int32_t t = 0; t < k; t++) {
        const float diff = (-qp[t] + pqp) / q[t][t];
        pr[t] += diff;
        pqp = (pqp + diff * (diff * q[t][t] + 2.0f * qp[t])) / ((1.0f + diff) * (1.0f + diff));
        for (int32_t j = 0; j < k; j++) { qp[j] = (qp[j] + diff * q[t][j]) / (1.0f + diff); pr[j] /= 1.0f + diff; }
      }
    }
    for (int32_t t = 0; t < k; t++) scores[(size_t)n * k + t] = pr[t];
  }
}`,
  },

  rqs_f32: {
    decl: `typedef struct { int32_t c, shift, lo, hi; } mm_rqs_f32_t;
void mm_rqs_f32(const mm_rqs_f32_t *p, const float *x, mm_view xv, const int32_t *mul, mm_view mv, const int32_t *add, mm_view av, float *y, int32_t *yi, mm_view yv, mm_box o);`,
    code: `/* Deeploy's RequantShift on integers held in float tensors: (x * mul + add + 2^(shift - 1)) >> shift (the rounding
   term only when shift > 0; the shift a floor division), clamped to the output's levels, written as float or int32 */
void mm_rqs_f32(const mm_rqs_f32_t *p, const float *x, mm_view xv, const int32_t *mul, mm_view mv, const int32_t *add, mm_view av, float *y, int32_t *yi, mm_view yv, mm_box o) {
  const int64_t half = p->shift > 0 ? ((int64_t)1 << (p->shift - 1)) : 0, den = (int64_t)1 << p->shift;
  for (int32_t h = o.h0; h < o.h1; h++) {
    for (int32_t w = o.w0; w < o.w1; w++) {
      for (int32_t c = 0; c < p->c; c++) {
        const int64_t v = (int64_t)x[MM_AT(xv, c, h, w)] * mul[MM_AT(mv, c, h, w)] + add[MM_AT(av, c, h, w)] + half;
        int64_t r = v >= 0 ? v / den : -((-v + den - 1) / den);
        r = r < p->lo ? p->lo : r > p->hi ? p->hi : r;
        if (yi) yi[MM_AT(yv, c, h, w)] = (int32_t)r;
        else y[MM_AT(yv, c, h, w)] = (float)r;
      }
    }
  }
}`,
  },

  layernorm_f32: {
    decl: `typedef struct { int32_t outer, n, rms; float eps; const float *scale, *bias; /* [n]; bias may be NULL */ float lo, hi; } mm_layernorm_f32_t;
void mm_layernorm_f32(const mm_layernorm_f32_t *p, const float *x, float *y);`,
    code: `/* ONNX LayerNormalization: each of the outer rows of n values to mean 0 and variance 1, then scaled and shifted;
   RMSNormalization (rms): divided by the root of its mean square, then scaled */
void mm_layernorm_f32(const mm_layernorm_f32_t *p, const float *x, float *y) {
  for (int32_t r = 0; r < p->outer; r++) {
    const float *xr = x + (size_t)r * p->n;
    float *yr = y + (size_t)r * p->n;
    float mean = 0.0f, var = 0.0f;
    if (!p->rms) {
      for (int32_t i = 0; i < p->n; i++) mean += xr[i];
      mean /= (float)p->n;
    }
    for (int32_t i = 0; i < p->n; i++) { const float d = xr[i] - mean; var += d * d; }
    const float inv = 1.0f / sqrtf(var / (float)p->n + p->eps);
    for (int32_t i = 0; i < p->n; i++) {
      const float v = (xr[i] - mean) * inv * p->scale[i] + (p->bias ? p->bias[i] : 0.0f);
      yr[i] = v < p->lo ? p->lo : v > p->hi ? p->hi : v;
    }
  }
}`,
  },

  prelu_q: { deps: ['requant'], decl: 'typedef struct { int32_t c, in_off, a_off, out_off, m1, s1, m2, s2, lo, hi; } mm_prelu_q_t;', code: '' },
  prelu_s8: preluKernel('s8'),
  prelu_s16: preluKernel('s16'),
  minmax_s8: minmaxKernel('s8'),
  minmax_s16: minmaxKernel('s16'),
  relu_s16: {
    deps: ['requant'],
    decl: `typedef struct { int32_t c, in_zp, out_zp, mult, shift, lo, hi, rescale; } mm_relu_s16_t;
void mm_relu_s16(const mm_relu_s16_t *p, const int16_t *x, mm_view xv, int16_t *y, mm_view yv, mm_box o);`,
    code: `/* TFLM's int16 RELU (ReluQuantized: rescaled to the output, clamped at its zero) and RELU6 (Relu6Quantized: the
   input's codes clamped to [zero, six], not rescaled) */
void mm_relu_s16(const mm_relu_s16_t *p, const int16_t *x, mm_view xv, int16_t *y, mm_view yv, mm_box o) {
  for (int32_t h = o.h0; h < o.h1; h++)
    for (int32_t w = o.w0; w < o.w1; w++)
      for (int32_t c = 0; c < p->c; c++) {
        const int32_t v = x[MM_AT(xv, c, h, w)];
        y[MM_AT(yv, c, h, w)] = (int16_t)mm_clamp(p->rescale ? p->out_zp + mm_mbqm(v - p->in_zp, p->mult, p->shift) : v, p->lo, p->hi);
      }
}`,
  },

  pow_f32: {
    deps: ['binary_f32'],
    decl: `void mm_pow_f32(const mm_binary_f32_t *p, const float *a, mm_view av, const float *b, mm_view bv, float *y, mm_view yv, mm_box o);`,
    code: `/* ONNX Pow in float (apart from mm_binary_f32, so that only a model using it links powf) */
void mm_pow_f32(const mm_binary_f32_t *p, const float *a, mm_view av, const float *b, mm_view bv, float *y, mm_view yv, mm_box o) {
  for (int32_t h = o.h0; h < o.h1; h++)
    for (int32_t w = o.w0; w < o.w1; w++)
      for (int32_t c = 0; c < p->c; c++) {
        const float r = powf(a[MM_AT(av, c, h, w)], b[MM_AT(bv, c, h, w)]);
        y[MM_AT(yv, c, h, w)] = r < p->lo ? p->lo : r > p->hi ? p->hi : r;
      }
}`,
  },

  add_s8: addKernel('s8', 'int8_t', 'TFLite reference int8 ADD (and SUB): both inputs rescaled to a common scale with 20 bits of headroom'),

  add_s16: addKernel('s16', 'int16_t', "TFLM's int16 ADD and SUB: the int8 arithmetic with 15 bits of headroom (65535 << 15 fits in 32 bits)"),

  mul_s8: mulKernel('s8'),
  mul_s16: mulKernel('s16'),

  unary_f32: floatMapKernel('unary_f32', 'MM_CLAMP, MM_SIGMOID, MM_HARDSWISH, MM_HARDSIGMOID, MM_TANH, MM_SILU, MM_LEAKYRELU, MM_ELU', 'float alpha, beta, lo, hi;', '', `          case MM_CLAMP: r = v; break;
          case MM_SIGMOID: r = 1.0f / (1.0f + expf(-v)); break;
          case MM_HARDSWISH: { float t = v + 3.0f; t = t < 0.0f ? 0.0f : t > 6.0f ? 6.0f : t; r = v * t / 6.0f; break; }
          case MM_HARDSIGMOID: { float t = p->alpha * v + p->beta; r = t < 0.0f ? 0.0f : t > 1.0f ? 1.0f : t; break; }
          case MM_TANH: r = tanhf(v); break;
          case MM_SILU: r = v / (1.0f + expf(-v)); break;
          case MM_LEAKYRELU: r = v >= 0.0f ? v : p->alpha * v; break;
          default: r = v >= 0.0f ? v : p->alpha * (expf(v) - 1.0f); break;`),

  special_f32: floatMapKernel('special_f32', 'MM_FLOOR, MM_CEIL, MM_ROUND, MM_RECIPROCAL, MM_SELU, MM_SOFTPLUS, MM_MISH, MM_SIGN, MM_SHRINK, MM_SOFTSIGN, MM_THRESHOLDED, MM_CELU', 'float alpha, gamma, lo, hi;', `/* ONNX's rounding, Reciprocal, Selu, Softplus, Mish, Sign, Shrink (alpha: lambd, gamma: bias), Softsign,
   ThresholdedRelu and Celu in float (apart from the others: only a model using them links floorf, ceilf, rintf,
   log1pf); Round is half to even (rintf in the default rounding mode) */
static float mm_softplus(float v) { return v > 0.0f ? v + log1pf(expf(-v)) : log1pf(expf(v)); }
`, `          case MM_FLOOR: r = floorf(v); break;
          case MM_CEIL: r = ceilf(v); break;
          case MM_ROUND: r = rintf(v); break;
          case MM_RECIPROCAL: r = 1.0f / v; break;
          case MM_SELU: r = p->gamma * (v > 0.0f ? v : p->alpha * (expf(v) - 1.0f)); break;
          case MM_SOFTPLUS: r = mm_softplus(v); break;
          case MM_SIGN: r = v > 0.0f ? 1.0f : v < 0.0f ? -1.0f : v; break;
          case MM_SHRINK: r = v < -p->alpha ? v + p->gamma : v > p->alpha ? v - p->gamma : 0.0f; break;
          case MM_SOFTSIGN: r = v / (1.0f + fabsf(v)); break;
          case MM_THRESHOLDED: r = v > p->alpha ? v : 0.0f; break;
          case MM_CELU: r = (v > 0.0f ? v : 0.0f) + (v < 0.0f ? p->alpha * (expf(v / p->alpha) - 1.0f) : 0.0f); break;
          default: r = v * tanhf(mm_softplus(v)); break;`),

  math_f32: floatMapKernel('math_f32', 'MM_EXP, MM_LOG, MM_ABS, MM_NEG, MM_SQRT, MM_RSQRT, MM_ERF, MM_GELU, MM_GELU_TANH', 'float lo, hi;', `/* float elementwise functions beyond the activations (apart from mm_unary_f32, so that a model with only
   activations does not link erff, logf or sqrtf) */
`, `          case MM_EXP: r = expf(v); break;
          case MM_LOG: r = logf(v); break;
          case MM_ABS: r = fabsf(v); break;
          case MM_NEG: r = -v; break;
          case MM_SQRT: r = sqrtf(v); break;
          case MM_RSQRT: r = 1.0f / sqrtf(v); break;
          case MM_ERF: r = erff(v); break;
          case MM_GELU: r = 0.5f * v * (1.0f + erff(v * 0.70710678f)); break;
          default: r = 0.5f * v * (1.0f + tanhf(0.79788456f * (v + 0.044715f * v * v * v))); break;`),

  lut_s8: {
    decl: `typedef struct { int32_t c; const int8_t *table; /* 256 entries, indexed by input + 128 */ } mm_lut_s8_t;
void mm_lut_s8(const mm_lut_s8_t *p, const int8_t *x, mm_view xv, int8_t *y, mm_view yv, mm_box o);`,
    code: `void mm_lut_s8(const mm_lut_s8_t *p, const int8_t *x, mm_view xv, int8_t *y, mm_view yv, mm_box o) {
  for (int32_t h = o.h0; h < o.h1; h++)
    for (int32_t w = o.w0; w < o.w1; w++)
      for (int32_t c = 0; c < p->c; c++) y[MM_AT(yv, c, h, w)] = p->table[(int32_t)x[MM_AT(xv, c, h, w)] + 128];
}`,
  },

  leaky_s16: {
    deps: ['requant'],
    decl: `typedef struct { int32_t c, in_zp, out_zp, id_mult, id_shift, a_mult, a_shift, a_neg; } mm_leaky_s16_t;
void mm_leaky_s16(const mm_leaky_s16_t *p, const int16_t *x, mm_view xv, int16_t *y, mm_view yv, mm_box o);`,
    code: `/* TFLM's int16 LEAKY_RELU (reference QuantizeLeakyRelu): identity or alpha multiplier by the input's sign */
void mm_leaky_s16(const mm_leaky_s16_t *p, const int16_t *x, mm_view xv, int16_t *y, mm_view yv, mm_box o) {
  for (int32_t h = o.h0; h < o.h1; h++)
    for (int32_t w = o.w0; w < o.w1; w++)
      for (int32_t c = 0; c < p->c; c++) {
        const int32_t v = (int32_t)x[MM_AT(xv, c, h, w)] - p->in_zp;
        int32_t r;
        if (v >= 0) r = mm_mbqm(v, p->id_mult, p->id_shift);
        else {
          r = mm_mbqm(v, p->a_mult, p->a_shift);
          if (p->a_neg) r = -r;
        }
        y[MM_AT(yv, c, h, w)] = (int16_t)mm_clamp(p->out_zp + r, -32768, 32767);
      }
}`,
  },

  clamp_s8: {
    decl: `typedef struct { int32_t c, lo, hi; } mm_clamp_s8_t;
void mm_clamp_s8(const mm_clamp_s8_t *p, int8_t *y, mm_view yv, mm_box o);`,
    code: `void mm_clamp_s8(const mm_clamp_s8_t *p, int8_t *y, mm_view yv, mm_box o) {
  for (int32_t h = o.h0; h < o.h1; h++)
    for (int32_t w = o.w0; w < o.w1; w++)
      for (int32_t c = 0; c < p->c; c++) {
        int8_t *q = &y[MM_AT(yv, c, h, w)];
        *q = (int8_t)(*q < p->lo ? p->lo : *q > p->hi ? p->hi : *q);
      }
}`,
  },

  quantize: {
    decl: `typedef struct { int32_t c, zp, half_even; float scale; } mm_quantize_t;
void mm_quantize(const mm_quantize_t *p, const float *x, mm_view xv, int8_t *y, mm_view yv, mm_box o);`,
    code: `/* real -> int8: round(x / scale) + zero_point, saturated (TFLite rounds half away from zero, ONNX half to even) */
void mm_quantize(const mm_quantize_t *p, const float *x, mm_view xv, int8_t *y, mm_view yv, mm_box o) {
  for (int32_t h = o.h0; h < o.h1; h++)
    for (int32_t w = o.w0; w < o.w1; w++)
      for (int32_t c = 0; c < p->c; c++) {
        const float v = x[MM_AT(xv, c, h, w)] / p->scale;
        const float r = p->half_even ? rintf(v) : roundf(v);
        /* clamped before the conversion: NaN, infinities and huge values would be undefined behaviour */
        int32_t q = (r != r ? 0 : r < -256.0f ? -256 : r > 256.0f ? 256 : (int32_t)r) + p->zp;
        y[MM_AT(yv, c, h, w)] = (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
      }
}`,
  },

  dequantize: dequantizeKernel('s8'),
  dequantize_s16: dequantizeKernel('s16'),

  requant_s8: requantKernel('s8', 's8', 'int8 -> int8 with another scale and zero point (TFLite QUANTIZE int8 -> int8, concatenation of unlike inputs)'),
  requant_s8_s16: requantKernel('s8', 's16', 'TFLite QUANTIZE int8 -> int16 (TFLM\'s Requantize)'),
  requant_s8_s32: requantKernel('s8', 's32', 'TFLite QUANTIZE int8 -> int32 (TFLM\'s Requantize)'),
  requant_s16_s8: requantKernel('s16', 's8', 'TFLite QUANTIZE int16 -> int8 (TFLM\'s Requantize)'),
  requant_s16_s16: requantKernel('s16', 's16', 'TFLite QUANTIZE int16 -> int16 (TFLM\'s Requantize)'),
  requant_s16_s32: requantKernel('s16', 's32', 'TFLite QUANTIZE int16 -> int32 (TFLM\'s Requantize)'),
  requant_s32_s8: requantKernel('s32', 's8', 'TFLite QUANTIZE int32 -> int8 (TFLM\'s Requantize)'),
  requant_s32_s16: requantKernel('s32', 's16', 'TFLite QUANTIZE int32 -> int16 (TFLM\'s Requantize)'),

  copy: {
    decl: `void mm_copy(int32_t c, int32_t esize, const void *x, mm_view xv, void *y, mm_view yv, mm_box o);`,
    code: `void mm_copy(int32_t c, int32_t esize, const void *x, mm_view xv, void *y, mm_view yv, mm_box o) {
  const uint8_t *src = (const uint8_t *)x;
  uint8_t *dst = (uint8_t *)y;
  for (int32_t h = o.h0; h < o.h1; h++)
    for (int32_t w = o.w0; w < o.w1; w++)
      for (int32_t k = 0; k < c; k++) memcpy(dst + (size_t)MM_AT(yv, k, h, w) * esize, src + (size_t)MM_AT(xv, k, h, w) * esize, (size_t)esize);
}`,
  },

  pad: {
    decl: `typedef struct { int32_t c, esize, cin, ih, iw, pc, pt, pl; uint32_t value; } mm_pad_t;
void mm_pad(const mm_pad_t *p, const void *x, mm_view xv, void *y, mm_view yv, mm_box o);`,
    code: `/* constant padding on the channel, height and width axes; value holds the pad element's bytes */
void mm_pad(const mm_pad_t *p, const void *x, mm_view xv, void *y, mm_view yv, mm_box o) {
  const uint8_t *src = (const uint8_t *)x;
  uint8_t *dst = (uint8_t *)y;
  for (int32_t h = o.h0; h < o.h1; h++)
    for (int32_t w = o.w0; w < o.w1; w++)
      for (int32_t c = 0; c < p->c; c++) {
        const int32_t ic = c - p->pc, ih = h - p->pt, iw = w - p->pl;
        uint8_t *d = dst + (size_t)MM_AT(yv, c, h, w) * p->esize;
        if (ic >= 0 && ic < p->cin && ih >= 0 && ih < p->ih && iw >= 0 && iw < p->iw) memcpy(d, src + (size_t)MM_AT(xv, ic, ih, iw) * p->esize, (size_t)p->esize);
        else memcpy(d, &p->value, (size_t)p->esize);
      }
}`,
  },

  pad_mode: {
    decl: `/* reflect/edge/symmetric/wrap padding of up to 6 axes: per axis and output index the source index (tables) */
typedef struct { int32_t rank, esize, out[6], xstride[6]; const int32_t *src[6]; } mm_pad_mode_t;
void mm_pad_mode(const mm_pad_mode_t *p, const void *x, void *y);`,
    code: `void mm_pad_mode(const mm_pad_mode_t *p, const void *x, void *y) {
  const uint8_t *s = (const uint8_t *)x;
  uint8_t *d = (uint8_t *)y;
  int32_t i[6] = {0, 0, 0, 0, 0, 0};
  size_t n = 1;
  for (int32_t a = 0; a < p->rank; a++) n *= (size_t)p->out[a];
  for (size_t k = 0; k < n; k++) {
    size_t at = 0;
    for (int32_t a = 0; a < p->rank; a++) at += (size_t)p->src[a][i[a]] * (size_t)p->xstride[a];
    memcpy(d + k * (size_t)p->esize, s + at * (size_t)p->esize, (size_t)p->esize);
    for (int32_t a = p->rank - 1; a >= 0; a--) { if (++i[a] < p->out[a]) break; i[a] = 0; }
  }
}`,
  },

  resize_nearest: {
    decl: `typedef struct { int32_t c, esize; const int32_t *rows, *cols; } mm_resize_t;
void mm_resize_nearest(const mm_resize_t *p, const void *x, mm_view xv, void *y, mm_view yv, mm_box o);`,
    code: `/* nearest-neighbour resize: output (h, w) copies input (rows[h], cols[w]); the indices are computed at export */
void mm_resize_nearest(const mm_resize_t *p, const void *x, mm_view xv, void *y, mm_view yv, mm_box o) {
  const uint8_t *src = (const uint8_t *)x;
  uint8_t *dst = (uint8_t *)y;
  for (int32_t h = o.h0; h < o.h1; h++)
    for (int32_t w = o.w0; w < o.w1; w++)
      for (int32_t c = 0; c < p->c; c++)
        memcpy(dst + (size_t)MM_AT(yv, c, h, w) * p->esize, src + (size_t)MM_AT(xv, c, p->rows[h], p->cols[w]) * p->esize, (size_t)p->esize);
}`,
  },

  resize_bilinear_f32: {
    decl: `typedef struct { int32_t c; const int32_t *y0, *y1, *x0, *x1; const float *fy, *fx; } mm_bilinear_f32_t;
void mm_resize_bilinear_f32(const mm_bilinear_f32_t *p, const float *x, mm_view xv, float *y, mm_view yv, mm_box o);`,
    code: `/* TFLite's float RESIZE_BILINEAR (reference ResizeBilinear): the sample positions are computed at export, the
   weighted sum in the reference's order */
void mm_resize_bilinear_f32(const mm_bilinear_f32_t *p, const float *x, mm_view xv, float *y, mm_view yv, mm_box o) {
  for (int32_t h = o.h0; h < o.h1; h++) {
    const int32_t y0 = p->y0[h], y1 = p->y1[h];
    const float dy = p->fy[h] - (float)y0;
    for (int32_t w = o.w0; w < o.w1; w++) {
      const int32_t x0 = p->x0[w], x1 = p->x1[w];
      const float dx = p->fx[w] - (float)x0;
      for (int32_t c = 0; c < p->c; c++)
        y[MM_AT(yv, c, h, w)] = x[MM_AT(xv, c, y0, x0)] * (1 - dy) * (1 - dx) + x[MM_AT(xv, c, y1, x0)] * dy * (1 - dx) +
                                x[MM_AT(xv, c, y0, x1)] * (1 - dy) * dx + x[MM_AT(xv, c, y1, x1)] * dy * dx + 0.0f;
    }
  }
}`,
  },

  resize_bilinear_s8: {
    decl: `typedef struct { int32_t c; const int32_t *y0, *y1, *x0, *x1, *iy, *ix; } mm_bilinear_s8_t;
void mm_resize_bilinear_s8(const mm_bilinear_s8_t *p, const int8_t *x, mm_view xv, int8_t *y, mm_view yv, mm_box o);`,
    code: `/* TFLite's integer RESIZE_BILINEAR (reference ResizeBilinearInteger): positions in 1/1024 steps, a 20-bit weighted
   sum rounded half away from zero */
void mm_resize_bilinear_s8(const mm_bilinear_s8_t *p, const int8_t *x, mm_view xv, int8_t *y, mm_view yv, mm_box o) {
  for (int32_t h = o.h0; h < o.h1; h++) {
    const int32_t y0 = p->y0[h], y1 = p->y1[h];
    const int64_t wy1 = p->iy[h] - (1 << 10) * y0, wy0 = (1 << 10) - wy1;
    for (int32_t w = o.w0; w < o.w1; w++) {
      const int32_t x0 = p->x0[w], x1 = p->x1[w];
      const int64_t wx1 = p->ix[w] - (1 << 10) * x0, wx0 = (1 << 10) - wx1;
      for (int32_t c = 0; c < p->c; c++) {
        const int64_t s = (int64_t)x[MM_AT(xv, c, y0, x0)] * wy0 * wx0 + (int64_t)x[MM_AT(xv, c, y1, x0)] * wy1 * wx0 +
                          (int64_t)x[MM_AT(xv, c, y0, x1)] * wy0 * wx1 + (int64_t)x[MM_AT(xv, c, y1, x1)] * wy1 * wx1;
        y[MM_AT(yv, c, h, w)] = (int8_t)((s + (s > 0 ? (1 << 19) : -(1 << 19))) / (1 << 20));
      }
    }
  }
}`,
  },

  concat: {
    decl: `void mm_concat(int32_t outer, int32_t in_inner, int32_t out_inner, int32_t offset, int32_t esize, const void *x, void *y);`,
    code: `/* one input of a concatenation along any axis of row-major tensors: outer blocks of in_inner elements */
void mm_concat(int32_t outer, int32_t in_inner, int32_t out_inner, int32_t offset, int32_t esize, const void *x, void *y) {
  const uint8_t *src = (const uint8_t *)x;
  uint8_t *dst = (uint8_t *)y;
  for (int32_t i = 0; i < outer; i++) memcpy(dst + ((size_t)i * out_inner + offset) * esize, src + (size_t)i * in_inner * esize, (size_t)in_inner * esize);
}`,
  },

  copy_nd: {
    decl: `typedef struct { int32_t rank, esize; int32_t dims[6]; int32_t x_strides[6]; int32_t y_strides[6]; } mm_copy_nd_t;
void mm_copy_nd(const mm_copy_nd_t *p, const void *x, void *y);`,
    code: `/* y[sum i_a * y_strides[a]] = x[sum i_a * x_strides[a]] over the dims (element strides, may be 0 or negative) */
void mm_copy_nd(const mm_copy_nd_t *p, const void *x, void *y) {
  const uint8_t *src = (const uint8_t *)x;
  uint8_t *dst = (uint8_t *)y;
  int32_t idx[6] = {0, 0, 0, 0, 0, 0};
  int32_t total = 1;
  for (int32_t a = 0; a < p->rank; a++) total *= p->dims[a];
  for (int32_t n = 0; n < total; n++) {
    int32_t xo = 0, yo = 0;
    for (int32_t a = 0; a < p->rank; a++) { xo += idx[a] * p->x_strides[a]; yo += idx[a] * p->y_strides[a]; }
    memcpy(dst + (ptrdiff_t)yo * p->esize, src + (ptrdiff_t)xo * p->esize, (size_t)p->esize);
    for (int32_t a = p->rank - 1; a >= 0; a--) { if (++idx[a] < p->dims[a]) break; idx[a] = 0; }
  }
}`,
  },

  mean_f32: {
    decl: `typedef struct { int32_t outer, n, inner, sum; } mm_mean_f32_t;
void mm_mean_f32(const mm_mean_f32_t *p, const float *x, float *y);`,
    code: `/* mean (sum: the sum) over the middle of [outer][n][inner] */
void mm_mean_f32(const mm_mean_f32_t *p, const float *x, float *y) {
  for (int32_t o = 0; o < p->outer; o++)
    for (int32_t i = 0; i < p->inner; i++) {
      float acc = 0.0f;
      for (int32_t k = 0; k < p->n; k++) acc += x[((size_t)o * p->n + k) * p->inner + i];
      y[(size_t)o * p->inner + i] = p->sum ? acc : acc / (float)p->n;
    }
}`,
  },

  mean_s8: meanKernel('s8'),
  mean_s16: meanKernel('s16'),
  mean_row_f32: {
    deps: ['mean_f32'],
    decl: `/* A mean over H and W one input row at a time (a line-buffered stream): columns [w0, w1) of row r added into acc
 * (one float per channel; first starts the sums), the output written after the last row, with mm_mean_f32's
 * arithmetic in its order (full rows). */
void mm_mean_row_f32(const mm_mean_f32_t *p, int32_t c, int32_t w0, int32_t w1, int32_t first, int32_t last, const float *x, mm_view xv, int32_t r, float *acc, float *y);`,
    code: `void mm_mean_row_f32(const mm_mean_f32_t *p, int32_t c, int32_t w0, int32_t w1, int32_t first, int32_t last, const float *x, mm_view xv, int32_t r, float *acc, float *y) {
  for (int32_t ch = 0; ch < c; ch++) {
    float a = first ? 0.0f : acc[ch];
    for (int32_t iw = w0; iw < w1; iw++) a += x[MM_AT(xv, ch, r, iw)];
    acc[ch] = a;
    if (last) y[ch] = p->sum ? a : a / (float)p->n;
  }
}`,
  },
  mean_row_s8: {
    deps: ['mean_s8'],
    decl: `/* A mean over H and W one input row at a time (int8): int32 sums per channel in acc, finished as mm_mean_s8. */
void mm_mean_row_s8(const mm_mean_s8_t *p, int32_t c, int32_t w0, int32_t w1, int32_t first, int32_t last, const int8_t *x, mm_view xv, int32_t r, int32_t *acc, int8_t *y);`,
    code: `void mm_mean_row_s8(const mm_mean_s8_t *p, int32_t c, int32_t w0, int32_t w1, int32_t first, int32_t last, const int8_t *x, mm_view xv, int32_t r, int32_t *acc, int8_t *y) {
  for (int32_t ch = 0; ch < c; ch++) {
    int32_t a = first ? 0 : acc[ch];
    for (int32_t iw = w0; iw < w1; iw++) a += x[MM_AT(xv, ch, r, iw)];
    acc[ch] = a;
    if (last) {
      int32_t v;
      if (p->mode == 0) v = mm_mbqm(a - p->in_zp * p->n, p->multiplier, p->shift) + p->out_zp;
      else if (p->mode == 2) v = (int32_t)lroundf(((float)a / (float)p->n - (float)p->in_zp) * p->scale) + p->out_zp;
      else v = a > 0 ? (a + p->n / 2) / p->n : (a - p->n / 2) / p->n;
      y[ch] = (int8_t)mm_clamp(v, -128, 127);
    }
  }
}`,
  },

  rmax_f32: {
    decl: `typedef struct { int32_t outer, n, inner; } mm_rmax_t;
void mm_rmax_f32(const mm_rmax_t *p, const float *x, float *y);`,
    code: `/* max over the middle of [outer][n][inner] (ONNX ReduceMax, TFLite REDUCE_MAX) */
void mm_rmax_f32(const mm_rmax_t *p, const float *x, float *y) {
  for (int32_t o = 0; o < p->outer; o++)
    for (int32_t i = 0; i < p->inner; i++) {
      float m = x[(size_t)o * p->n * p->inner + i];
      for (int32_t k = 1; k < p->n; k++) { float v = x[((size_t)o * p->n + k) * p->inner + i]; if (v > m) m = v; }
      y[(size_t)o * p->inner + i] = m;
    }
}`,
  },
  rmax_s8: {
    deps: ['rmax_f32'],
    decl: `/* int8 max: input and output share their quantization (TFLM's REDUCE_MAX requires it), so the max of the codes */
void mm_rmax_s8(const mm_rmax_t *p, const int8_t *x, int8_t *y);`,
    code: `void mm_rmax_s8(const mm_rmax_t *p, const int8_t *x, int8_t *y) {
  for (int32_t o = 0; o < p->outer; o++)
    for (int32_t i = 0; i < p->inner; i++) {
      int8_t m = x[(size_t)o * p->n * p->inner + i];
      for (int32_t k = 1; k < p->n; k++) { int8_t v = x[((size_t)o * p->n + k) * p->inner + i]; if (v > m) m = v; }
      y[(size_t)o * p->inner + i] = m;
    }
}`,
  },
  rmax_row_f32: {
    deps: ['rmax_f32'],
    decl: `/* A max over H and W one input row at a time (a line-buffered stream): the max of columns [w0, w1) of row r per
 * channel into acc (first starts it), the output written after the last row. */
void mm_rmax_row_f32(const mm_rmax_t *p, int32_t c, int32_t w0, int32_t w1, int32_t first, int32_t last, const float *x, mm_view xv, int32_t r, float *acc, float *y);`,
    code: `void mm_rmax_row_f32(const mm_rmax_t *p, int32_t c, int32_t w0, int32_t w1, int32_t first, int32_t last, const float *x, mm_view xv, int32_t r, float *acc, float *y) {
  (void)p;
  for (int32_t ch = 0; ch < c; ch++) {
    float m = first ? x[MM_AT(xv, ch, r, w0)] : acc[ch];
    for (int32_t iw = w0; iw < w1; iw++) { float v = x[MM_AT(xv, ch, r, iw)]; if (v > m) m = v; }
    acc[ch] = m;
    if (last) y[ch] = m;
  }
}`,
  },
  rmax_row_s8: {
    deps: ['rmax_s8'],
    decl: `/* A max over H and W one input row at a time (int8; the running max per channel held as int32 in acc). */
void mm_rmax_row_s8(const mm_rmax_t *p, int32_t c, int32_t w0, int32_t w1, int32_t first, int32_t last, const int8_t *x, mm_view xv, int32_t r, int32_t *acc, int8_t *y);`,
    code: `void mm_rmax_row_s8(const mm_rmax_t *p, int32_t c, int32_t w0, int32_t w1, int32_t first, int32_t last, const int8_t *x, mm_view xv, int32_t r, int32_t *acc, int8_t *y) {
  (void)p;
  for (int32_t ch = 0; ch < c; ch++) {
    int32_t m = first ? x[MM_AT(xv, ch, r, w0)] : acc[ch];
    for (int32_t iw = w0; iw < w1; iw++) { int32_t v = x[MM_AT(xv, ch, r, iw)]; if (v > m) m = v; }
    acc[ch] = m;
    if (last) y[ch] = (int8_t)m;
  }
}`,
  },

  softmax_f32: {
    decl: `/* softmax (or log-softmax) over the middle axis of [rows][n][inner] */
typedef struct { int32_t rows, n, inner, log; float beta; } mm_softmax_f32_t;
void mm_softmax_f32(const mm_softmax_f32_t *p, const float *x, float *y);`,
    code: `void mm_softmax_f32(const mm_softmax_f32_t *p, const float *x, float *y) {
  const size_t s = (size_t)p->inner;
  for (int32_t r = 0; r < p->rows; r++) {
    for (int32_t k = 0; k < p->inner; k++) {
      const float *xr = x + (size_t)r * p->n * s + k;
      float *yr = y + (size_t)r * p->n * s + k;
      float mx = xr[0], sum = 0.0f;
      for (int32_t i = 1; i < p->n; i++) if (xr[i * s] > mx) mx = xr[i * s];
      if (p->log) {
        for (int32_t i = 0; i < p->n; i++) sum += expf(p->beta * (xr[i * s] - mx));
        const float l = logf(sum);
        for (int32_t i = 0; i < p->n; i++) yr[i * s] = p->beta * (xr[i * s] - mx) - l;
      } else {
        for (int32_t i = 0; i < p->n; i++) { yr[i * s] = expf(p->beta * (xr[i * s] - mx)); sum += yr[i * s]; }
        for (int32_t i = 0; i < p->n; i++) yr[i * s] /= sum;
      }
    }
  }
}`,
  },

  softmax_q: {
    deps: ['requant'],
    decl: 'typedef struct { int32_t rows, n, diff_min; const int32_t *exp; } mm_softmax_q_t;',
    code: `/* gemmlowp one_over_one_plus_x_for_x_in_0_1: 1/(1 + a) for a in [0, 1), Q0.31 in and out (Newton-Raphson) */
static int32_t mm_sat_shl(int32_t x, int32_t e) {
  const int32_t t = (int32_t)((1u << (31 - e)) - 1u);
  return x > t ? INT32_MAX : x < -t ? INT32_MIN : (int32_t)((uint32_t)x << e);
}
static int32_t mm_recip_q31(int32_t a) {
  const int64_t s = (int64_t)a + INT32_MAX;
  const int32_t half_den = (int32_t)((s + (s >= 0 ? 1 : -1)) / 2);
  int32_t x = (int32_t)(1515870810u + (uint32_t)mm_srdhm(half_den, -1010580540));
  for (int32_t i = 0; i < 3; i++) {
    const int32_t one_minus = (int32_t)((1u << 29) - (uint32_t)mm_srdhm(half_den, x));
    x = (int32_t)((uint32_t)x + (uint32_t)mm_sat_shl(mm_srdhm(x, one_minus), 2));
  }
  return mm_sat_shl(x, 1);
}
static int32_t mm_wadd(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
/* A row's maximum (into *mx) and the sum of its exponentials in Q12.19, the differences below diff_min left out
   (TFLM's Softmax and LogSoftmax alike); positive: the maximum's own term is one */
static int32_t mm_exp_sum(const int8_t *xr, int32_t n, int32_t diff_min, const int32_t *exp, int32_t *mx) {
  int32_t m = -128, sum = 0;
  for (int32_t i = 0; i < n; i++) if (xr[i] > m) m = xr[i];
  for (int32_t i = 0; i < n; i++) {
    const int32_t d = m - xr[i];
    if (-d >= diff_min) sum = mm_wadd(sum, mm_rdbpot(exp[d], 12));
  }
  *mx = m;
  return sum;
}`,
  },
  logsoftmax_q_s8: {
    deps: ['softmax_q'],
    decl: `typedef struct { int32_t rows, n, diff_min, mult, shift, rev_mult, rev_shift; const int32_t *exp; } mm_logsoftmax_q_t;
void mm_logsoftmax_q_s8(const mm_logsoftmax_q_t *p, const int8_t *x, int8_t *y);`,
    code: `/* TFLite's log_x_for_x_greater_than_or_equal_to_1<5>: log(x) of x >= 1 in Q12.19, as Q5.26 (gemmlowp arithmetic) */
static int32_t mm_sat64(int64_t v) { return v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v; }
static int32_t mm_log_q5(int32_t x) {
  const int32_t log_2 = 1488522236, sqrt_sqrt_half = 1805811301, sqrt_half = 1518500250;
  const int32_t alpha_n = 117049297, alpha_d = 127690142, alpha_i = 1057819769, alpha_f = 638450708;
  const int32_t shifted_quarter = mm_rdbpot(536870912, 6);
  const int32_t hp1 = mm_clz32((uint32_t)x);
  const int32_t r_a = mm_sat_shl(mm_srdhm(mm_sat_shl(x, hp1 - 1), sqrt_half), 1);
  const int32_t za_adj = mm_sat64((int64_t)mm_sat_shl(12 - hp1, 25) + shifted_quarter);
  const int32_t hb = mm_clz32((uint32_t)mm_srdhm(x, sqrt_half)) - 1;
  const int32_t r_b = mm_sat_shl(x, hb);
  const int32_t zb_adj = mm_sat64((int64_t)mm_sat_shl(12 - hb, 25) - shifted_quarter);
  const int32_t r = r_a < r_b ? r_a : r_b;
  const int32_t z_adj = za_adj > zb_adj ? za_adj : zb_adj;
  const int64_t hs = (int64_t)r + sqrt_sqrt_half;
  const int32_t pp = (int32_t)((hs + (hs >= 0 ? 1 : -1)) / 2);
  int32_t q = mm_wadd(r, -sqrt_sqrt_half);
  q = mm_wadd(q, q);
  const int32_t sq = mm_srdhm(q, q);
  const int32_t num = mm_wadd(mm_srdhm(q, r), mm_srdhm(mm_srdhm(q, sq), alpha_n));
  const int32_t den = mm_wadd(mm_srdhm(pp, mm_wadd(mm_wadd(alpha_i, q), mm_srdhm(alpha_d, sq))), mm_srdhm(alpha_f, q));
  const int32_t acc = mm_wadd(mm_srdhm(z_adj, log_2), mm_srdhm(mm_rdbpot(num, 6), mm_recip_q31(den)));
  return mm_sat_shl(acc, 1);
}
/* TFLM's int8 LOG_SOFTMAX (reference_ops::LogSoftmaxQuantized): output scale 16/256, zero point 127 */
void mm_logsoftmax_q_s8(const mm_logsoftmax_q_t *p, const int8_t *x, int8_t *y) {
  for (int32_t r = 0; r < p->rows; r++) {
    const int8_t *xr = x + (size_t)r * p->n;
    int8_t *yr = y + (size_t)r * p->n;
    int32_t mx;
    const int32_t log_sum = mm_log_q5(mm_exp_sum(xr, p->n, p->diff_min, p->exp, &mx));
    const int32_t scaled = mm_mbqm(mm_wadd(log_sum, INT32_MIN), p->rev_mult, p->rev_shift);
    const int32_t adjusted = p->diff_min - 1 > scaled ? p->diff_min - 1 : scaled;
    for (int32_t i = 0; i < p->n; i++) {
      const int32_t diff = xr[i] - mx;
      if (diff > adjusted) {
        const int32_t q5 = mm_mbqm(diff, p->mult, p->shift);
        yr[i] = (int8_t)mm_clamp(mm_rdbpot(mm_wadd(q5, -log_sum), 22) + 127, -128, 127);
      } else {
        yr[i] = -128;
      }
    }
  }
}`,
  },
  irb_f32: fusedBlockKernel('f32'),
  irb_s8: fusedBlockKernel('s8'),
  cwpool_f32: channelPoolKernel('f32'),
  softmax_q_s8: softmaxKernel('s8'),
  softmax_q_s16: softmaxKernel('s16'),
  arg: { decl: 'typedef struct { int32_t outer, n, inner, min, last; } mm_arg_t;', code: '' },
  arg_f32_s32: argKernel('f32', 's32'),
  arg_f32_s64: argKernel('f32', 's64'),
  arg_s8_s32: argKernel('s8', 's32'),
  arg_s8_s64: argKernel('s8', 's64'),
  arg_s16_s32: argKernel('s16', 's32'),
  arg_s16_s64: argKernel('s16', 's64'),
  softmax_s16: {
    deps: ['requant'],
    decl: `typedef struct { int32_t rows, n, mult, shift; const int16_t *exp_lut, *recip_lut; } mm_softmax_s16_t;
void mm_softmax_s16(const mm_softmax_s16_t *p, const int16_t *x, int16_t *y);`,
    code: `/* TFLite's LUTLookup: a 513-entry table over int16, interpolated over the low 7 bits */
static int16_t mm_lut16(int32_t v, const int16_t *lut) {
  const int32_t i = 256 + (v >> 7), off = v & 0x7f;
  const int16_t slope = (int16_t)(lut[i + 1] - lut[i]);
  return (int16_t)(lut[i] + ((slope * off + 64) >> 7));
}
/* TFLM's int16 SOFTMAX (reference_ops::SoftmaxInt16): exponentials and the reciprocal of their sum from tables,
   output scale 1/32768; the exponentials are kept in the output row meanwhile, as TFLM does */
void mm_softmax_s16(const mm_softmax_s16_t *p, const int16_t *x, int16_t *y) {
  for (int32_t r = 0; r < p->rows; r++) {
    const int16_t *xr = x + (size_t)r * p->n;
    int16_t *yr = y + (size_t)r * p->n;
    int32_t mx = -32768, sum = 0;
    for (int32_t i = 0; i < p->n; i++) if (xr[i] > mx) mx = xr[i];
    for (int32_t i = 0; i < p->n; i++) {
      const int32_t d = mm_mbqm(xr[i] - mx, p->mult, p->shift) + 32767;
      yr[i] = mm_lut16(mm_clamp(d, -32768, 32767), p->exp_lut);
      sum += yr[i];
    }
    const int32_t hp1 = mm_clz32((uint32_t)sum);
    const int32_t shifted = (int32_t)((((int64_t)sum << (hp1 - 1)) + (1 << 13)) >> 14);
    const int16_t recip = mm_lut16(mm_clamp(shifted - ((1 << 15) + (1 << 16)), -32768, 32767), p->recip_lut);
    const int32_t rs = 31 - hp1;
    for (int32_t i = 0; i < p->n; i++) {
      const int32_t v = (int32_t)(((int64_t)yr[i] * recip + ((int64_t)1 << (rs - 1))) >> rs);
      yr[i] = (int16_t)mm_clamp(v, 0, 32767);
    }
  }
}`,
  },
  softmax_s8: {
    decl: `typedef struct { int32_t rows, n, in_zp, out_zp; float in_scale, out_scale, beta; } mm_softmax_s8_t;
void mm_softmax_s8(const mm_softmax_s8_t *p, const int8_t *x, int8_t *y);`,
    code: `/* int8 softmax computed in float and quantized to the output's scale (TFLite uses 1/256, zero point -128) */
void mm_softmax_s8(const mm_softmax_s8_t *p, const int8_t *x, int8_t *y) {
  for (int32_t r = 0; r < p->rows; r++) {
    const int8_t *xr = x + (size_t)r * p->n;
    int8_t *yr = y + (size_t)r * p->n;
    int32_t mx = xr[0];
    float sum = 0.0f;
    for (int32_t i = 1; i < p->n; i++) if (xr[i] > mx) mx = xr[i];
    for (int32_t i = 0; i < p->n; i++) sum += expf(p->beta * p->in_scale * (float)(xr[i] - mx));
    for (int32_t i = 0; i < p->n; i++) {
      const float v = expf(p->beta * p->in_scale * (float)(xr[i] - mx)) / sum;
      const int32_t q = (int32_t)lroundf(v / p->out_scale) + p->out_zp;
      yr[i] = (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
    }
  }
}`,
  },
};

/** An inverted residual fused per output pixel (a line-buffered segment's fused block, schedule/fusion.ts): per pixel
 *  of the box, the depthwise outputs of every channel into s (one pixel), each channel's window of E first recomputed
 *  from the block input x into s + C (kh·kw values) when the expansion is given, else read from E (x); then the 1×1
 *  projection of that pixel, into y, or, running as the residual Add, into the scratch after those and added to the
 *  skip r into y. Each value is the per-layer kernels' own computation, in their order: bit for bit. */
function fusedBlockKernel(t: 'f32' | 's8'): KernelSource {
  const T = t === 'f32' ? 'float' : 'int8_t';
  const add = t === 'f32' ? 'binary_f32' : 'add_s8';
  const perChannel = t === 'f32' ? '' : ' ec.mult += c; ec.shift += c;';
  const perChannelD = t === 'f32' ? '' : ' dc.mult += c; dc.shift += c;';
  return {
    deps: [`conv_${t}`, add],
    decl: `typedef struct {
  const mm_conv_${t}_t *e; /* the 1x1 expansion recomputed per window, or NULL: E is stored (x is E) */
  const mm_conv_${t}_t *d; /* the depthwise convolution */
  const mm_conv_${t}_t *p; /* the 1x1 projection */
  const mm_${add}_t *add; /* the residual Add the block runs as (its skip r), or NULL: the projection writes y */
  int32_t p_second; /* the projection is the Add's second operand */
} mm_irb_${t}_t;
void mm_irb_${t}(const mm_irb_${t}_t *p, const ${T} *x, mm_view xv, const ${T} *r, mm_view rv, ${T} *s, ${T} *y, mm_view yv, mm_box o);`,
    code: `void mm_irb_${t}(const mm_irb_${t}_t *p, const ${T} *x, mm_view xv, const ${T} *r, mm_view rv, ${T} *s, ${T} *y, mm_view yv, mm_box o) {
  const mm_conv_${t}_t *d = p->d;
  ${T} *win = s + d->cout;
  ${T} *q = win + (p->e ? d->kh * d->kw : 0); /* one pixel of the projection, before the Add */
  for (int32_t oh = o.h0; oh < o.h1; oh++) {
    for (int32_t ow = o.w0; ow < o.w1; ow++) {
      const mm_view pv = {oh, ow, 1, 0, 0, 0}; /* one pixel of D: channel c at s[c] */
      const mm_box px = {oh, oh + 1, ow, ow + 1};
      if (!p->e) {
        mm_conv_${t}(d, x, xv, s, pv, px);
      } else {
        const int32_t ih0 = oh * d->sh - d->pt, iw0 = ow * d->sw - d->pl;
        const mm_view wv = {ih0, iw0, 0, d->kw, 1, 0}; /* one channel's window of E */
        const mm_box wb = {ih0 < 0 ? 0 : ih0, ih0 + d->kh > d->ih ? d->ih : ih0 + d->kh, iw0 < 0 ? 0 : iw0, iw0 + d->kw > d->iw ? d->iw : iw0 + d->kw};
        for (int32_t c = 0; c < d->cout; c++) {
          mm_conv_${t}_t ec = *p->e;
          ec.cout = 1; ec.w += (size_t)c * ec.cin; if (ec.b) ec.b += c;${perChannel}
          mm_conv_${t}(&ec, x, xv, win, wv, wb);
          mm_conv_${t}_t dc = *d;
          dc.cin = 1; dc.cout = 1; dc.groups = 1; dc.w += (size_t)c * d->kh * d->kw; if (dc.b) dc.b += c;${perChannelD}
          mm_conv_${t}(&dc, win, wv, s + c, pv, px);
        }
      }
      if (!p->add) {
        mm_conv_${t}(p->p, s, pv, y, yv, px);
      } else {
        mm_conv_${t}(p->p, s, pv, q, pv, px);
        if (p->p_second) mm_${add}(p->add, r, rv, q, pv, y, yv, px);
        else mm_${add}(p->add, q, pv, r, rv, y, yv, px);
      }
    }
  }
}`,
  };
}

/** A 1×1 convolution and the global pooling of its output, output channel by output channel (a line-buffered plan's
 *  channel-wise tail): channel c's whole map into s (ih·iw values), then pooled into channel c of y. */
function channelPoolKernel(t: 'f32'): KernelSource {
  const T = 'float';
  return {
    deps: [`conv_${t}`, `pool_${t}`],
    decl: `void mm_cwpool_${t}(const mm_conv_${t}_t *cv, const mm_pool_${t}_t *pl, const ${T} *x, mm_view xv, ${T} *s, ${T} *y, mm_view yv);`,
    code: `void mm_cwpool_${t}(const mm_conv_${t}_t *cv, const mm_pool_${t}_t *pl, const ${T} *x, mm_view xv, ${T} *s, ${T} *y, mm_view yv) {
  const mm_view sv = {0, 0, 0, pl->iw, 1, 0};
  const mm_box all = {0, pl->ih, 0, pl->iw};
  const mm_box one = {0, 1, 0, 1};
  for (int32_t c = 0; c < cv->cout; c++) {
    mm_conv_${t}_t cc = *cv;
    cc.cout = 1; cc.w += (size_t)c * cc.cin; if (cc.b) cc.b += c;
    mm_conv_${t}(&cc, x, xv, s, sv, all);
    mm_pool_${t}_t pc = *pl;
    pc.c = 1;
    mm_pool_${t}(&pc, s, sv, y + (MM_AT(yv, c, 0, 0) - MM_AT(yv, 0, 0, 0)), yv, one);
  }
}`,
  };
}

/** The kernels a set of names needs, dependencies first, each once. */
export function kernelClosure(names: Iterable<string>): string[] {
  const out: string[] = [];
  const visit = (n: string): void => {
    if (out.includes(n)) return;
    const k = KERNELS[n];
    if (!k) throw new Error(`internal: no kernel '${n}'`);
    for (const d of k.deps ?? []) visit(d);
    out.push(n);
  };
  for (const n of names) visit(n);
  return out;
}
