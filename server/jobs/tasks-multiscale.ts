/**
 * Multi-scale job steps (run in a worker thread by runTask, exported from tasks.ts): registering one
 * interior scan into the project's scan, and the whole measure → composite chain. Plain JSON
 * arguments (absolute workspace paths, parameters); no server state here: no database, no Next.
 */
import type { StageOptions } from '@/lib/errors';
import { registerInterior } from '@/lib/registration/register-3d';
import type { Vec3 } from '@/lib/upscale/interior-pose';
import { classThresholds } from '@/lib/upscale/measure-interior';
import { runUpscale, type UpscaleInput } from '@/lib/upscale/run-upscale-node';
import { openVolume } from '@/lib/volume/zarr-store-node';

export interface RegisterInteriorTaskArgs {
  volumePath: string;
  interiorPath: string;
  interiorName: string;
  volumeName: string;
  start: { centre: Vec3; angleDeg: number };
}

/** Register one interior scan; the views go back as plain number arrays (JSON). */
export async function multiscaleRegister(a: RegisterInteriorTaskArgs, opts: StageOptions) {
  const [volume, interior] = await Promise.all([openVolume(a.volumePath), openVolume(a.interiorPath)]);
  const r = await registerInterior(volume, interior, { start: a.start, interiorName: a.interiorName, volumeName: a.volumeName, signal: opts.signal, onProgress: opts.onProgress });
  const nan = (v: number) => (Number.isFinite(v) ? Math.round(v * 10) / 10 : null);
  // the automatic pore/solid threshold over the whole interior (the measurement refines it per
  // class); the Multi-scale step's threshold preview starts from it
  const t = (await classThresholds(interior, () => -1, opts.signal)).get(-1)!;
  return {
    pose: r.pose, hiToLow: r.hiToLow, factor: r.factor, quality: r.quality, coarse: r.coarse,
    auto: { threshold: t.threshold, lowMean: t.lowMean, highMean: t.highMean },
    views: r.views.map((v) => ({ axis: v.axis, width: v.width, height: v.height, fixed: Array.from(v.fixed, nan), moving: Array.from(v.moving, nan) })),
  };
}

/** Measure every registered interior, calibrate per class, write the composite model and tables. */
export async function multiscaleUpscale(a: UpscaleInput, opts: StageOptions) {
  const r = await runUpscale(a, opts);
  const { registrations: _r, ...rest } = r;
  return rest;
}
