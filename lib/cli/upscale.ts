/**
 * `petromap upscale --volume <low-res store> --classes <lithology labels> --interior <high-res store>...
 *   --out <folder>`: registers each interior scan into the large scan, segments it into pore and
 * solid, measures porosity per lithology class and writes the composite model (lib/upscale
 * runUpscale). A thin adapter: on failure it prints the message and sets exit code 1.
 */
import { invalidInput } from '../errors';
import type { ExportFormat } from '../report/export-node';
import type { Vec3 } from '../upscale/interior-pose';
import { runUpscale, type UpscaleInterior } from '../upscale/run-upscale-node';
import { progressBar } from './progress';

export const USAGE = [
  'usage: petromap upscale --volume <low-res store.ome.zarr> --classes <lithology labels.ome.zarr>',
  '         --interior <high-res store.ome.zarr>[@z,y,x[,degrees]] [--pores <labels.ome.zarr>[:codes]] [--interior ...] --out <folder>',
  '         [--class-names 1=high porosity,2=low porosity,...] [--formats ome-zarr,nrrd,nifti,tiff] [--threshold <grey>]',
  '',
  '  --interior   an interior scan; @z,y,x is its centre in voxels of the large scan (e.g. the proposal it',
  '               was taken at), optionally with its turn about the scan axis; without it, the position',
  '               comes from the store\'s origin (stage position in µm, in the large scan\'s frame)',
  '  --pores      a pore/solid label volume of the preceding interior (e.g. predicted by a model trained on painted',
  '               strokes) and its pore codes (default 1): used instead of the grey threshold',
  '  --threshold  pore/solid grey threshold for every interior (default: per class, between the pore and grain peaks)',
  '  --formats    exports of the composite porosity (default all four)',
].join('\n');

const FORMATS: ExportFormat[] = ['ome-zarr', 'nrrd', 'nifti', 'tiff'];

export function parseUpscaleArgs(argv: string[]) {
  const a = { volume: '', classes: '', out: '', interiors: [] as UpscaleInterior[], classNames: {} as Record<number, string>, formats: undefined as ExportFormat[] | undefined, threshold: undefined as number | undefined };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw invalidInput(`${flag} needs a value.\n${USAGE}`);
      return v;
    };
    if (flag === '--volume') a.volume = value();
    else if (flag === '--classes') a.classes = value();
    else if (flag === '--out') a.out = value();
    else if (flag === '--interior') a.interiors.push(parseInterior(value()));
    else if (flag === '--pores') {
      const last = a.interiors[a.interiors.length - 1];
      if (!last) throw invalidInput(`--pores follows the --interior it segments.\n${USAGE}`);
      const v = value(), colon = v.lastIndexOf(':');
      const codes = colon > 0 ? v.slice(colon + 1).split(',').map(Number) : [1];
      if (!codes.length || codes.some((c) => !Number.isInteger(c) || c < 1 || c > 255)) throw invalidInput(`--pores ${v}: the pore codes after : must be whole numbers 1–255.`);
      last.poreLabels = { path: colon > 0 ? v.slice(0, colon) : v, poreCodes: codes };
    }
    else if (flag === '--threshold') {
      const t = Number(value());
      if (!Number.isFinite(t)) throw invalidInput(`--threshold must be a grey value, not ${argv[i]}.`);
      a.threshold = t;
    } else if (flag === '--formats') {
      a.formats = value().split(',').map((f) => f.trim()) as ExportFormat[];
      const bad = a.formats.find((f) => !FORMATS.includes(f));
      if (bad) throw invalidInput(`--formats: "${bad}" is not one of ${FORMATS.join(', ')}.`);
    } else if (flag === '--class-names') {
      for (const part of value().split(',')) {
        const m = /^\s*(\d+)\s*=\s*(.+?)\s*$/.exec(part);
        if (!m) throw invalidInput(`--class-names: "${part}" is not code=name (e.g. 1=high porosity).`);
        a.classNames[Number(m[1])] = m[2]!;
      }
    } else throw invalidInput(`Unknown option ${flag}.\n${USAGE}`);
  }
  if (!a.volume) throw invalidInput(`--volume is required.\n${USAGE}`);
  if (!a.classes) throw invalidInput(`--classes is required.\n${USAGE}`);
  if (!a.interiors.length) throw invalidInput(`At least one --interior is required.\n${USAGE}`);
  if (!a.out) throw invalidInput(`--out is required.\n${USAGE}`);
  return a;
}

function parseInterior(v: string): UpscaleInterior {
  const at = v.lastIndexOf('@');
  if (at < 0) return { path: v };
  const nums = v.slice(at + 1).split(',').map(Number);
  if (!(nums.length === 3 || nums.length === 4) || nums.some((n) => !Number.isFinite(n))) {
    throw invalidInput(`--interior ${v}: the position after @ must be z,y,x or z,y,x,degrees in voxels of the large scan.`);
  }
  return { path: v.slice(0, at), start: { centre: nums.slice(0, 3) as Vec3, angleDeg: nums[3] ?? 0 } };
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
