import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMineralogy } from '../lib/pipeline/run-mineralogy';
import { classMapFromNames } from '../lib/registration/transfer-labels';
import { writeDenseVolume } from '../lib/volume/zarr-store-node';
import { generateSandstone } from '../lib/synthetic';
import { distortEdsMap } from '../lib/synthetic/eds';
import { IOU_DISTORTIONS } from './register-distorted';
const dir = await mkdtemp(join(tmpdir(), 'v3-probe-'));
const s = generateSandstone({ shape: [64, 160, 160], seed: 16 });
const path = join(dir, 'volume.ome.zarr');
await writeDenseVolume(path, s.volume);
const classMap = classMapFromNames(s.eds.legend, s.truth.mineralToClass);
for (const [k, ms] of [['', 2], ['shear3', 2], ['shear3', 3], ['shear3', 1]] as const) {
  const m = distortEdsMap(s, k ? IOU_DISTORTIONS[k].d : {});
  const r = await runMineralogy(path, m.eds, classMap, join(dir, `${k || 'u'}-m${ms}`), { register: { inWorker: false }, seed: ms, bankGuard: true });
  console.log(k || 'undistorted', ms, JSON.stringify({ guard: r.bankGuard, modal: r.modal, quality: r.quality }).slice(0, 3000));
}
