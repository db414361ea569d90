/**
 * `npm run bench -- scale-search [a|b|n3 ...] [--seeds 1,2] [--factors 0.6,0.7,0.8,1,1.2,1.3,1.5] [--n3 /tmp/n3/data,/tmp/n3/data8] [--before]`:
 * the EDS pixel-size search (lib/registration/scale-search.ts) on maps given with a wrong pixel size
 * (the true one × each factor): the pixel size it finds against the truth (%), whether it calls the
 * given one plausible, and the automatic registration at the found size against the one at the true
 * size (mean/max voxel error against the generator's truth). Samples: style A (generateSandstone,
 * 24 x 128 x 128 at 2 µm, random acquisitions as bench register), style B (generateStyleB,
 * 32 x 128 x 128 at 2 µm, 2.4 µm EDS pixels) and N3's independent rock (/tmp/n3/make.py: scan.mhd,
 * eds_labels.tif + labels_legend.csv, 1.6 µm EDS pixels; skipped when absent). Times: the search
 * against one registration at the true size of the same case, both with the helper thread (as the
 * CLI runs them); ratios per case (wall, and CPU of all threads: the machine may be shared), medians. `--before`: also the registration at the given size.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Affine2to3 } from '../lib/coords';
import type { MineralMap } from '../lib/eds/types';
import { registerEdsToVolume } from '../lib/registration/register-eds';
import { registrationError } from '../lib/registration/quality';
import { openVolumeInput, readMineralMapInput } from '../lib/registration/read-inputs-node';
import { PLAUSIBLE_FACTOR, searchMapScale } from '../lib/registration/scale-search';
import type { VolumeSource } from '../lib/registration/volume-source';
import { generateSandstone, randomAcquisition, REGISTRATION_RANGES } from '../lib/synthetic';
import { generateStyleB } from '../lib/synthetic/style-b/generate';

/** CPU seconds of this process, all threads */
const cpuS = () => { const c = process.cpuUsage(); return (c.user + c.system) / 1e6; };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

interface Case {
  name: string;
  volume: VolumeSource;
  map: MineralMap;
  /** mean and max error (voxels) of an EDS -> voxel transform against the truth */
  error: (edsToVoxel: Affine2to3) => { mean: number; max: number };
  close?: () => Promise<void>;
}

function synthetic(style: 'a' | 'b', seed: number): Case {
  const s = style === 'b'
    ? generateStyleB({ shape: [32, 128, 128], seed, voxelUm: 2, edsPixelUm: 2.4 })
    : generateSandstone(randomAcquisition(seed, { shape: [24, 128, 128], voxelUm: 2 }, { ...REGISTRATION_RANGES, depthVox: [2, 10] }));
  return {
    name: `style ${style.toUpperCase()} seed ${seed}`, volume: s.volume, map: s.eds,
    error: (m) => registrationError(m, s.truth.edsToVoxel, s.eds.width, s.eds.height, s.volume.meta.shape),
  };
}

/** N3's rock: the truth gives voxel x and y of each EDS pixel (truth.json); the error is in x, y (as N3's regerr.py). */
async function n3(dir: string): Promise<Case> {
  const t = JSON.parse(readFileSync(join(dir, 'truth.json'), 'utf8')) as { edsPixelUm: number; edsToVoxel: { x: number[]; y: number[] } };
  const opened = await openVolumeInput(join(dir, 'scan.mhd'));
  const map = await readMineralMapInput(join(dir, 'eds_labels.tif'), join(dir, 'labels_legend.csv'), t.edsPixelUm);
  const [tx, ty] = [t.edsToVoxel.x, t.edsToVoxel.y];
  return {
    name: `N3 ${dir.split('/').pop()}`, volume: opened.store, map, close: () => opened.close(),
    error: (m) => {
      let s = 0, max = 0, n = 0;
      for (let v = 0; v < map.height; v++) for (let u = 0; u < map.width; u++) {
        const d = Math.hypot(m[3] * u + m[4] * v + m[5] - (ty[0] * u + ty[1] * v + ty[2]), m[6] * u + m[7] * v + m[8] - (tx[0] * u + tx[1] * v + tx[2]));
        s += d; n++; max = Math.max(max, d);
      }
      return { mean: s / n, max };
    },
  };
}

const fmtE = (e: { mean: number; max: number }) => `${e.mean.toFixed(2)}/${e.max.toFixed(2)}`;

export async function run(args: string[]): Promise<void> {
  const opt = (flag: string) => { const i = args.indexOf(flag); return i < 0 ? undefined : args[i + 1]; };
  const nums = (s: string | undefined, d: number[]) => (s ? s.split(',').map(Number).filter((x) => x > 0) : d);
  const seeds = nums(opt('--seeds'), [1, 2]);
  const factors = nums(opt('--factors'), [0.6, 0.7, 0.8, 1, 1.2, 1.3, 1.5]);
  const n3dirs = (opt('--n3') ?? '/tmp/n3/data,/tmp/n3/data8').split(',').filter((d) => existsSync(join(d, 'truth.json')));
  const before = args.includes('--before');
  const styles = args.filter((a) => ['a', 'b', 'n3'].includes(a));
  const want = (s: string) => !styles.length || styles.includes(s);
  const makers: (() => Case | Promise<Case>)[] = [
    ...(want('a') ? seeds.map((s) => () => synthetic('a', s)) : []),
    ...(want('b') ? seeds.map((s) => () => synthetic('b', s)) : []),
    ...(want('n3') ? n3dirs.map((d) => () => n3(d)) : []),
  ];
  if (want('n3') && !n3dirs.length) console.log('(N3\'s rock not found: /tmp/n3/make.py writes it; skipped)');
  console.log(`EDS pixel-size search: range 0.5-2 x the given size, 5 % coarse and 1 % fine steps; plausible when the best factor is within ${(100 * PLAUSIBLE_FACTOR).toFixed(0)} % of 1`);
  console.log('case | given x | found µm (true) | found/true - 1 | plausible | score given/best | registration at found size: err mean/max vox (at true size) | search s / one registration s = ratio' + (before ? ' | at given size: err' : ''));
  const ratios: number[] = [], cpuRatios: number[] = [], offs: { f: number; off: number; plausible: boolean; ratio: number }[] = [], regGap: number[] = [], seededGap: number[] = [], verdicts: string[] = [];
  for (const make of makers) {
    const c = await make();
    try {
      const truePx = c.map.pixelSizeUm;
      let t0 = performance.now(), c0 = cpuS();
      const ref = await registerEdsToVolume(c.volume, c.map);
      const regMs = performance.now() - t0, regCpu = cpuS() - c0;
      const eRef = c.error(ref.edsToVoxel);
      for (const f of factors) {
        const given = { ...c.map, pixelSizeUm: truePx * f };
        t0 = performance.now(); c0 = cpuS();
        const r = await searchMapScale(c.volume, given);
        const ms = performance.now() - t0, cpu = cpuS() - c0;
        const off = r.pixelUm / truePx - 1;
        const reg = await registerEdsToVolume(c.volume, { ...c.map, pixelSizeUm: r.pixelUm });
        const e = c.error(reg.edsToVoxel);
        // the registration started from the search's pose, as petromap register --find-pixel-size and the web app's
        // "Register at X µm" run it (RegisterOptions.initialPose, on the search's slab)
        const seededReg = await registerEdsToVolume(c.volume, { ...c.map, pixelSizeUm: r.pixelUm }, { initialPose: { edsToSlab: r.edsToSlab, mi: r.mi, secondMi: r.chance }, surface: r.surface, extractedSlab: r.slab });
        const seeded = c.error(seededReg.edsToVoxel);
        verdicts.push(seededReg.quality.confidence?.verdict ?? 'none');
        let tail = '';
        if (before) tail = ` | ${fmtE(c.error((await registerEdsToVolume(c.volume, given)).edsToVoxel))}`;
        ratios.push(ms / regMs); cpuRatios.push(cpu / regCpu); offs.push({ f, off, plausible: r.plausible, ratio: r.scoreRatio }); regGap.push(e.mean - eRef.mean); seededGap.push(seeded.mean - eRef.mean);
        console.log(`${c.name.padEnd(18)} | ${f.toFixed(2)} | ${r.pixelUm.toFixed(3)} (${truePx.toFixed(3)}) | ${(100 * off).toFixed(1).padStart(5)} % | ${r.plausible ? 'yes' : 'no '}${r.distinct ? '' : ' (not distinct)'} | ${r.scoreRatio.toFixed(3)} | ${fmtE(e)} (${fmtE(eRef)}), from the search's pose ${fmtE(seeded)} ${seededReg.quality.confidence?.verdict ?? ''} | ${(ms / 1000).toFixed(1)} / ${(regMs / 1000).toFixed(1)} = ${(ms / regMs).toFixed(1)} (CPU ${(cpu / regCpu).toFixed(1)})${tail}`);
      }
    } finally {
      await c.close?.();
    }
  }
  if (!offs.length) return;
  const right = offs.filter((o) => Math.abs(Math.log(o.f)) < 0.15), wrong = offs.filter((o) => Math.abs(Math.log(o.f)) >= 0.15);
  const absOff = offs.map((o) => Math.abs(o.off));
  console.log(`found pixel size against the truth: median |error| ${(100 * median(absOff)).toFixed(1)} %, max ${(100 * Math.max(...absOff)).toFixed(1)} % over ${offs.length} searches`);
  if (right.length) console.log(`given x0.9-1.1: plausible ${right.filter((o) => o.plausible).length}/${right.length}, score given/best min ${Math.min(...right.map((o) => o.ratio)).toFixed(3)}`);
  if (wrong.length) console.log(`given x0.6-0.8 or x1.2-1.5: called implausible ${wrong.filter((o) => !o.plausible).length}/${wrong.length}, score given/best max ${Math.max(...wrong.map((o) => o.ratio)).toFixed(3)}`);
  console.log(`registration at the found size minus at the true size, mean error: median ${median(regGap).toFixed(3)}, max ${Math.max(...regGap).toFixed(3)} voxel`);
  console.log(`the same from the search's pose: median ${median(seededGap).toFixed(3)}, max ${Math.max(...seededGap).toFixed(3)} voxel; confirmed ${verdicts.filter((v) => v === 'confirmed').length}/${verdicts.length}`);
  console.log(`search time / one registration: median ${median(ratios).toFixed(1)}, range ${Math.min(...ratios).toFixed(1)}-${Math.max(...ratios).toFixed(1)} wall; CPU (all threads) median ${median(cpuRatios).toFixed(1)}`);
}
