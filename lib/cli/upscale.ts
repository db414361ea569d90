/**
 * `petromap upscale --volume <low-res store> --classes <lithology labels> --interior <high-res store>...
 *   --out <folder>`: registers each interior scan into the large scan, segments it into pore and
 * solid, measures porosity per lithology class and writes the composite model (lib/upscale
 * runUpscale). A thin adapter: on failure it prints the message and sets exit code 1.
 */
import { existsSync } from 'node:fs';
import { invalidInput } from '../errors';
import type { ExportFormat } from '../report/export-node';
import type { Vec3 } from '../upscale/interior-pose';
import { runUpscale, type UpscaleInterior } from '../upscale/run-upscale-node';
import { parseCommandArgs } from './args';
import { progressBar } from './progress';

export const USAGE = [
  'usage: petromap upscale --volume <low-res store.ome.zarr> --classes <lithology labels.ome.zarr>',
  '         --interior <high-res store.ome.zarr>[@z,y,x[,degrees]] [--pores <labels.ome.zarr>[:codes]] [--interior ...] --out <folder>',
  '         [--class-names 1=high porosity,2=low porosity,...] [--formats ome-zarr,nrrd,nifti,tiff] [--threshold <grey>]',
  '',
  '  --interior   an interior scan; repeat it for several (--interior a.ome.zarr@40,60,60 --interior b.ome.zarr);',
  '               @z,y,x is its centre in voxels of the large scan (e.g. the proposal it was taken at),',
  '               optionally with its turn about the scan axis in degrees; without it, the position comes from',
  '               the store\'s origin (stage position in µm, in the large scan\'s frame)',
  '  --pores      a pore/solid label volume of the --interior just before it (e.g. predicted by a model trained on',
  '               painted strokes; same shape as that scan) and its pore codes (default 1): used instead of the',
  '               grey threshold for that interior',
  '  --threshold  pore/solid grey threshold for every interior (default: per class, between the pore and grain peaks)',
  '  --formats    exports of the composite porosity (default all four)',
].join('\n');

const FORMATS = ['ome-zarr', 'nrrd', 'nifti', 'tiff'] as const satisfies readonly ExportFormat[];

const SPEC = {
  usage: USAGE,
  options: {
    volume: { kind: 'path', must: 'exist', what: 'the large scan', required: true },
    classes: { kind: 'path', must: 'exist', what: 'the lithology labels', required: true },
    interior: { kind: 'string', multiple: true, required: true },
    pores: { kind: 'string', multiple: true },
    out: { kind: 'string', required: true },
    'class-names': { kind: 'string' },
    formats: { kind: 'list', choices: FORMATS },
    threshold: { kind: 'number', unit: 'grey value of the interior scans' },
  },
} as const;

export function parseUpscaleArgs(argv: string[]) {
  const { values: v, sequence } = parseCommandArgs(argv, SPEC);
  const interiors: UpscaleInterior[] = [];
  // --pores qualifies the --interior written just before it
  for (const o of sequence) {
    if (o.name === 'interior') interiors.push(parseInterior(o.value as string));
    else if (o.name === 'pores') {
      const last = interiors[interiors.length - 1];
      if (!last) throw invalidInput(`--pores follows the --interior it segments. ${USAGE}`);
      if (last.poreLabels) throw invalidInput(`--pores is given twice for interior ${last.path}: one pore label volume per interior.`);
      last.poreLabels = parsePores(o.value as string);
    }
  }
  const classNames: Record<number, string> = {};
  for (const part of v['class-names']?.split(',') ?? []) {
    const m = /^\s*(\d+)\s*=\s*(.+?)\s*$/.exec(part);
    if (!m) throw invalidInput(`--class-names: "${part}" is not code=name (e.g. 1=high porosity).`);
    classNames[Number(m[1])] = m[2]!;
  }
  return { volume: v.volume, classes: v.classes, out: v.out, interiors, classNames, formats: v.formats as ExportFormat[] | undefined, threshold: v.threshold };
}

function mustExist(option: string, p: string, what: string) {
  if (!existsSync(p)) throw invalidInput(`--${option}: ${what} ${p} does not exist.`);
}

function parseInterior(v: string): UpscaleInterior {
  const at = v.lastIndexOf('@');
  const path = at < 0 ? v : v.slice(0, at);
  mustExist('interior', path, 'the interior scan');
  if (at < 0) return { path };
  const nums = v.slice(at + 1).split(',').map((x) => (x.trim() === '' ? NaN : Number(x)));
  if (!(nums.length === 3 || nums.length === 4) || nums.some((n) => !Number.isFinite(n))) {
    throw invalidInput(`--interior ${v}: the position after @ must be z,y,x or z,y,x,degrees in voxels of the large scan.`);
  }
  return { path, start: { centre: nums.slice(0, 3) as Vec3, angleDeg: nums[3] ?? 0 } };
}

function parsePores(v: string): NonNullable<UpscaleInterior['poreLabels']> {
  // codes after the last colon only when they look like codes (a path may hold a colon)
  const colon = /:[\d,\s]*$/.test(v) ? v.lastIndexOf(':') : -1;
  const codes = colon > 0 ? v.slice(colon + 1).split(',').map((x) => (x.trim() === '' ? NaN : Number(x))) : [1];
  if (!codes.length || codes.some((c) => !Number.isInteger(c) || c < 1 || c > 255)) throw invalidInput(`--pores ${v}: the pore codes after : must be whole numbers 1–255.`);
  const path = colon > 0 ? v.slice(0, colon) : v;
  mustExist('pores', path, 'the pore label volume');
  return { path, poreCodes: codes };
}

export async function main(argv: string[]): Promise<void> {
  const a = parseUpscaleArgs(argv);
  const onProgress = progressBar('upscale');
  const r = await runUpscale({
    volumePath: a.volume, classesPath: a.classes, classNames: a.classNames, outDir: a.out, formats: a.formats,
    interiors: a.interiors.map((it) => ({ ...it, threshold: a.threshold })),
  }, { onProgress });
  onProgress.done();
  for (const it of r.interiors) {
    const q = it.quality;
    console.log(`${it.name}: centre (${it.pose.centre.map((v) => v.toFixed(2)).join(', ')}) voxels, turn ${it.pose.angleDeg.toFixed(2)}°` +
      (q ? `, NCC ${q.nccFinal.toFixed(3)}, error estimate ${q.errorEstimateVox.toFixed(2)} voxels` : '') + `; ${it.footprints} footprints on ${it.hiVoxels} voxels`);
  }
  for (const c of r.classes) {
    console.log(c.porosity
      ? `${c.name}: porosity ${c.porosity.value.toFixed(4)} [${c.porosity.low.toFixed(4)}, ${c.porosity.high.toFixed(4)}] (${c.calibration!.footprints} footprints, ${c.calibration!.hiVoxels} high-res voxels)`
      : `${c.name}: ${c.statement}`);
  }
  console.log(`whole sample: porosity ${r.total.value.toFixed(4)}, 95 % interval [${r.total.low.toFixed(4)}, ${r.total.high.toFixed(4)}] over ${(100 * r.total.coveredFraction).toFixed(1)} % of the volume`);
  console.log(`written ${a.out}: ${Object.values(r.files).map((f) => f.split('/').pop()).join(', ')}`);
}
