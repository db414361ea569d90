/**
 * Minibatch training of buildMlp's network without tfjs-layers' `model.fit`: the same network,
 * loss, L2 penalty, seeded dropout and Adam on the model's own variables, in fewer and faster
 * TF.js calls (docs/training-speed.md). Why (profile of `model.fit` at 128x192x192, ~12k rows,
 * batch 512, wasm backend):
 * - the gradients of a Dense layer are matrix products with a transposed operand, which
 *   tfjs-backend-wasm computes with a scalar, strided loop (its `slow_batch_matmul`); here they
 *   are a transpose followed by an untransposed product, which goes to XNNPACK;
 * - 251 kernels per step, ~90 of them Adam's: TF.js computes the batch's loss and gradients, the
 *   Adam update of the ~4k weights runs in float32 JS loops (tfjs-core's arithmetic);
 * - every batch of `fit` gathers its rows from the whole training tensor, and its dropout draws
 *   a seeded random mask that is the same on every call (tfjs-core `dropout` with a seed): here
 *   the rows are shuffled in JS and each mask is drawn once per batch shape (the same values).
 * 80 kernels per step; per epoch 0.37-0.48 -> 0.15-0.20 s CPU. The loss of an epoch is the mean of
 * its batches' (cross-entropy + L2 penalty), weighted by batch size, as `fit` reports it.
 * tests/lib/classify/fit-epoch.test.ts holds it to model.fit (losses and weights within 1e-4).
 */
import * as tfc from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { unprocessable } from '../errors';

type T2 = tfc.Tensor2D;

/**
 * The output Dense and the loss in one op: mean over rows of -sum_k t_k log(clip(softmax(x W + b)_k,
 * 1e-7, 1)) (mlp weightedSoftCrossEntropy), with the gradient to the logits written out:
 * (p sum_k t'_k - t') / rows, t' = t where p >= 1e-7 (the clip passes no gradient below it), the
 * same as the chain of ~20 small kernels autodiff would run. `t` is a constant of the batch.
 */
function softmaxLossOp(needDx: boolean, t: T2) {
  return tfc.customGrad((...a: (tfc.Tensor | tfc.GradSaveFunc)[]) => {
    const [x, w, b, save] = a as [T2, T2, tfc.Tensor, tfc.GradSaveFunc];
    const p = tfc.softmax(tfc.fused.matMul({ a: x, b: w, bias: b }));
    save([x, w, p]);
    return {
      value: tfc.mean(tfc.neg(tfc.sum(tfc.mul(t, tfc.log(tfc.clipByValue(p, 1e-7, 1))), -1))),
      gradFunc: (dy: tfc.Tensor | tfc.Tensor[], saved: tfc.Tensor[]) => {
        const [sx, sw, sp] = saved as [T2, T2, T2];
        const tk = tfc.mul(t, tfc.cast(tfc.greaterEqual(sp, 1e-7), 'float32'));
        const g = tfc.mul(tfc.sub(tfc.mul(sp, tfc.sum(tk, -1, true)), tk), tfc.div(dy as tfc.Tensor, sx.shape[0])) as T2;
        return [needDx ? tfc.matMul(g, tfc.transpose(sw)) : tfc.zerosLike(sx), tfc.matMul(tfc.transpose(sx), g), tfc.sum(g, 0)];
      },
    };
  });
}

/** relu(x W + b) (tfjs-layers' fused Dense with relu), gradients as untransposed products. */
function denseReluOp(needDx: boolean) {
  return tfc.customGrad((...a: (tfc.Tensor | tfc.GradSaveFunc)[]) => {
    const [x, w, b, save] = a as [T2, T2, tfc.Tensor, tfc.GradSaveFunc];
    const out = tfc.fused.matMul({ a: x, b: w, bias: b, activation: 'relu' });
    save([x, w, out]);
    return {
      value: out,
      gradFunc: (dy: tfc.Tensor | tfc.Tensor[], saved: tfc.Tensor[]) => {
        const [sx, sw, so] = saved as [T2, T2, T2];
        const g = tfc.mul(dy as T2, tfc.step(so)) as T2;
        return [needDx ? tfc.matMul(g, tfc.transpose(sw)) : tfc.zerosLike(sx), tfc.matMul(tfc.transpose(sx), g), tfc.sum(g, 0)];
      },
    };
  });
}

type Step =
  | { kind: 'noise'; sd: number }
  | { kind: 'dropout'; rate: number; seed?: number; index: number; input: boolean }
  | { kind: 'dense'; w: tfc.Variable; b: tfc.Variable; relu: boolean; first: boolean };

export interface EpochTrainer {
  /** one pass over the rows in the given order, in batches of `batchSize`; the epoch's mean loss */
  epoch(x: Float32Array, target: Float32Array, order: Int32Array, batchSize: number): Promise<number>;
  dispose(): void;
}

export interface EpochTrainerOptions {
  /** L2 penalty on the kernels (buildMlp's l2) */
  l2: number;
  /** Adam's learning rate */
  learningRate: number;
  /**
   * a dropout on the inputs drops these groups of input columns together (column -> group, e.g. the
   * encoded bins of one feature, lib/classify/ple); default: each column alone
   */
  inputGroups?: Int32Array;
}

const F = Math.fround;

/**
 * A trainer of `model` (buildMlp's layers: optional GaussianNoise, then Dense relu [+ Dropout] ...,
 * Dense softmax) on rows of `nF` features and `K`-class targets: loss weightedSoftCrossEntropy
 * plus l2 x the sum of squared kernels, minimised with Adam (tfjs-core's AdamOptimizer: beta1 0.9,
 * beta2 0.999, epsilon 1e-7, its bias correction). TF.js computes each batch's loss and gradients
 * (variableGrads); the Adam update of the ~4k weights and the L2 term's gradient (2 l2 W) are
 * applied here in float32, in a few JS loops instead of ~100 small TF.js kernels per step.
 */
export function epochTrainer(model: tfl.Sequential, nF: number, K: number, o: EpochTrainerOptions): EpochTrainer {
  const steps: Step[] = [];
  let dropouts = 0;
  for (const layer of model.layers) {
    const name = layer.getClassName();
    const cfg = layer.getConfig() as { stddev?: number; rate?: number; seed?: number; activation?: string };
    if (name === 'GaussianNoise') steps.push({ kind: 'noise', sd: cfg.stddev ?? 0 });
    else if (name === 'Dropout') steps.push({ kind: 'dropout', rate: cfg.rate ?? 0, seed: cfg.seed, index: dropouts++, input: !steps.some((t) => t.kind === 'dense') });
    else if (name === 'Dense') {
      const dense = layer as unknown as { kernel?: { read(): tfc.Variable }; bias?: { read(): tfc.Variable } | null };
      if (!dense.kernel || !dense.bias) throw unprocessable('epochTrainer: a Dense layer without kernel or bias is not supported.');
      const w = dense.kernel.read(), b = dense.bias.read();
      const relu = cfg.activation === 'relu';
      if (!relu && cfg.activation !== 'softmax') throw unprocessable(`epochTrainer: Dense activation ${cfg.activation} is not supported.`);
      const first = !steps.some((s) => s.kind === 'dense');
      steps.push({ kind: 'dense', w, b, relu, first });
    } else throw unprocessable(`epochTrainer: layer ${name} is not supported.`);
  }
  const vars = steps.flatMap((s) => (s.kind === 'dense' ? [s.w, s.b] : []));
  const isKernel = steps.flatMap((s) => (s.kind === 'dense' ? [true, false] : []));
  // Adam state and the weights, in JS (float32)
  const value = vars.map((v) => Float32Array.from(v.dataSync() as Float32Array));
  const m1 = value.map((v) => new Float32Array(v.length)), m2 = value.map((v) => new Float32Array(v.length));
  const beta1 = 0.9, beta2 = 0.999, eps = 1e-7, lr = o.learningRate, l2 = F(o.l2);
  let accBeta1 = F(beta1), accBeta2 = F(beta2);
  // tfjs-core dropout with a seed draws the same uniform values on every call of a shape: one mask per (layer, rows)
  const masks = new Map<string, tfc.Tensor>();
  const maskOf = (s: Extract<Step, { kind: 'dropout' }>, rows: number, units: number) => {
    const key = `${s.index}:${rows}`;
    let m = masks.get(key);
    if (!m) {
      const keep = 1 - s.rate, groups = s.input ? o.inputGroups : undefined;
      const cols = groups ? groups.reduce((a, g) => Math.max(a, g + 1), 0) : units;
      m = tfc.keep(tfc.tidy(() => {
        const mask = tfc.div(tfc.floor(tfc.add(tfc.randomUniform([rows, cols], 0, 1, 'float32', s.seed), keep)), keep);
        return groups ? tfc.gather(mask, tfc.tensor1d(groups, 'int32'), 1) : mask;
      }));
      masks.set(key, m);
    }
    return m;
  };
  const relu = [denseReluOp(false), denseReluOp(true)];
  const last = steps.at(-1);
  if (last?.kind !== 'dense' || last.relu) throw unprocessable('epochTrainer: the network must end in a Dense softmax layer.');
  /** the batch's loss: the layers up to the output Dense, then softmaxLossOp */
  const lossOf = (xb: T2, tb: T2) => {
    let h: tfc.Tensor = xb;
    for (const s of steps.slice(0, -1)) {
      if (s.kind === 'noise') h = tfc.add(tfc.randomNormal(h.shape, 0, s.sd), h);
      else if (s.kind === 'dropout') h = s.rate > 0 && s.rate < 1 ? tfc.mul(h, maskOf(s, h.shape[0]!, h.shape[1]!)) : h;
      else if (s.relu) h = relu[s.first ? 0 : 1]!(h, s.w, s.b);
      else throw unprocessable('epochTrainer: a softmax Dense layer before the last is not supported.');
    }
    return softmaxLossOp(!last.first, tb)(h, last.w, last.b) as tfc.Scalar;
  };
  /** one Adam step on the gradients (the L2 term's added here) */
  const update = (grads: Float32Array[]) => {
    const c1 = F(1 - accBeta1), c2 = F(1 - accBeta2);
    grads.forEach((g, i) => {
      const w = value[i]!, a = m1[i]!, b = m2[i]!, k = isKernel[i]!;
      for (let j = 0; j < w.length; j++) {
        const gj = k && l2 ? F(g[j]! + F(F(2 * w[j]!) * l2)) : g[j]!;
        a[j] = F(F(a[j]! * beta1) + F(gj * F(1 - beta1)));
        b[j] = F(F(b[j]! * beta2) + F(F(gj * gj) * F(1 - beta2)));
        w[j] = F(F(F(F(a[j]! / c1) / F(F(Math.sqrt(F(b[j]! / c2))) + eps)) * -lr) + w[j]!);
      }
    });
    accBeta1 = F(accBeta1 * beta1);
    accBeta2 = F(accBeta2 * beta2);
    vars.forEach((v, i) => {
      const t = tfc.tensor(value[i]!, v.shape);
      v.assign(t);
      t.dispose();
    });
  };
  const l2Sum = () => {
    let s = 0;
    value.forEach((w, i) => { if (isKernel[i]) for (let j = 0; j < w.length; j++) s += w[j]! * w[j]!; });
    return l2 * s;
  };
  return {
    async epoch(x, target, order, batchSize) {
      const n = order.length;
      const xb = new Float32Array(Math.min(batchSize, n) * nF), tb = new Float32Array(Math.min(batchSize, n) * K);
      let sum = 0;
      for (let s = 0; s < n; s += batchSize) {
        const m = Math.min(batchSize, n - s);
        for (let i = 0; i < m; i++) {
          const r = order[s + i]!;
          xb.set(x.subarray(r * nF, (r + 1) * nF), i * nF);
          tb.set(target.subarray(r * K, (r + 1) * K), i * K);
        }
        const penalty = l2 ? l2Sum() : 0;
        const grads = tfc.tidy(() => {
          const xt = tfc.tensor2d(xb.subarray(0, m * nF), [m, nF]), tt = tfc.tensor2d(tb.subarray(0, m * K), [m, K]);
          const r = tfc.variableGrads(() => lossOf(xt, tt), vars);
          return [r.value, ...vars.map((v) => r.grads[v.name]!)];
        });
        const [loss, ...g] = grads.map((t) => t.dataSync() as Float32Array);
        tfc.dispose(grads);
        sum += (loss![0]! + penalty) * m;
        update(g);
      }
      return sum / Math.max(1, n);
    },
    dispose() {
      masks.forEach((m) => m.dispose());
      masks.clear();
    },
  };
}
