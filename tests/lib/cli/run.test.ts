/**
 * `petromap run` without traps (issue 16 §4): a used --out or a bad option is refused before any
 * work with nothing written; a petromap store is referenced (read only, never copied); --export
 * writes the labels through the shared exporter.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main as runMain } from '../../../lib/cli/run';
import { saveMineralMap } from '../../../lib/eds/store-node';
import { isPetromapError } from '../../../lib/errors';
import { generateSandstone, type SyntheticSample } from '../../../lib/synthetic';
import { writeSyntheticSample } from '../../../lib/synthetic/write-sample-node';
import { openVolume, writeDenseVolume } from '../../../lib/volume/zarr-store-node';

const tmp = mkdtempSync(join(tmpdir(), 'petromap-cli-run-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

let sample: SyntheticSample;
const store = join(tmp, 'scan.ome.zarr');
const mapDir = join(tmp, 'map');
const files = join(tmp, 'files'); // volume.nrrd, eds-map.png, eds-legend.csv

beforeAll(async () => {
  sample = generateSandstone({ shape: [32, 96, 96], seed: 4, grainDiameterVox: 12 });
  await writeDenseVolume(store, sample.volume, { chunk: [32, 64, 64] });
  await saveMineralMap(mapDir, sample.eds);
  await writeSyntheticSample(files, sample);
});

/** Every file under `dir`: relative path -> size and modification time. */
function listing(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else {
        const st = statSync(p);
        out[relative(dir, p)] = `${st.size}@${st.mtimeMs}`;
      }
    }
  };
  walk(dir);
  return out;
}

async function run(argv: string[]) {
  const log: string[] = [];
  let err = '';
  const l = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void log.push(a.join(' ')));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s) => ((err += String(s)), true));
  try {
    const code = await runMain(argv).catch((x: unknown) => x);
    return { code, out: log.join('\n'), err };
  } finally {
    l.mockRestore();
    e.mockRestore();
  }
}

describe('petromap run', () => {
  const out = join(tmp, 'run1');

  it('references a petromap store (read only, not copied) and exports the labels as NRRD, NIfTI, TIFF and OME-Zarr 0.4', async () => {
    const before = listing(store);
    const r = await run(['--volume', store, '--eds', mapDir, '--out', out, '--threads', '2', '--export', 'nrrd,nifti,tiff,ome-zarr-v2']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out);
    expect(j.volume).toEqual({ store, referenced: true });
    expect(readdirSync(out)).not.toContain('volume.ome.zarr');
    expect(listing(store)).toEqual(before); // not a byte written into the referenced store
    const rec = JSON.parse(readFileSync(join(out, 'run.json'), 'utf8'));
    expect(rec.volume).toEqual({ store, referenced: true });
    expect(rec.finishedAt).toBeTruthy();
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).prediction.volume ?? store).toBe(store);
    // the exports hold the predicted labels, voxel for voxel
    expect(j.exports.map((x: { format: string }) => x.format)).toEqual(['nrrd', 'nifti', 'tiff', 'ome-zarr-v2']);
    expect(JSON.parse(readFileSync(join(out, 'labels.v2.ome.zarr', '.zattrs'), 'utf8')).multiscales[0].version).toBe('0.4');
    const labels = await openVolume(j.files.labels);
    const [nz, ny, nx] = labels.meta.shape;
    const lab = (await labels.readBlock({ start: [0, 0, 0], shape: [nz, ny, nx] })) as Uint8Array;
    expect(lab.some((v) => v > 0)).toBe(true);
    for (const x of (j.exports as { format: string; path: string; bytes: number }[]).filter((e) => e.format !== 'ome-zarr-v2')) {
      const buf = readFileSync(x.path);
      expect(buf.length).toBe(x.bytes);
      expect(buf.length).toBeGreaterThanOrEqual(nz * ny * nx);
    }
    const nrrd = readFileSync(join(out, 'labels.nrrd'));
    const header = nrrd.indexOf('\n\n') + 2;
    expect(nrrd.subarray(0, header).toString()).toMatch(/sizes: 96 96 32/);
    expect(Buffer.compare(nrrd.subarray(header), Buffer.from(lab.buffer, lab.byteOffset, lab.byteLength))).toBe(0);
    const nii = readFileSync(join(out, 'labels.nii'));
    expect(Buffer.compare(nii.subarray(nii.readFloatLE(108)), Buffer.from(lab.buffer, lab.byteOffset, lab.byteLength))).toBe(0);
  }, 240_000);

  it('refuses a used --out before any work, changing nothing in it', async () => {
    const before = listing(out);
    const r = await run(['--volume', join(files, 'volume.nrrd'), '--eds', mapDir, '--out', out]);
    expect(isPetromapError(r.code, 'Conflict')).toBe(true);
    expect((r.code as Error).message).toMatch(/already holds the results of an earlier run .*nothing was done.*new --out folder/);
    expect(r.err).toBe(''); // no progress: no import, no registration started
    expect(listing(out)).toEqual(before);
    // a user's folder, and a folder inside the referenced store
    const mine = join(tmp, 'mine');
    mkdirSync(mine);
    writeFileSync(join(mine, 'notes.txt'), 'mine');
    const r2 = await run(['--volume', store, '--eds', mapDir, '--out', mine]);
    expect((r2.code as Error).message).toMatch(/already holds other files .*notes\.txt/);
    const r4 = await run(['--volume', store, '--eds', mapDir, '--out', join(out, 'model')]);
    expect((r4.code as Error).message).toMatch(/is a folder petromap wrote for something else .*model\.json/);
    const r3 = await run(['--volume', store, '--eds', mapDir, '--out', join(store, 'results')]);
    expect((r3.code as Error).message).toMatch(/lies inside the input .*--volume.*never writes into its inputs/);
    expect(readdirSync(store)).not.toContain('results');
  });

  it('checks every option before reading the volume, naming the option', async () => {
    const o = join(tmp, 'never');
    const png = join(files, 'eds-map.png'), legend = join(files, 'eds-legend.csv'), vol = join(files, 'volume.nrrd');
    const cases: [string[], RegExp][] = [
      [['--pixel-um', legend], /^--pixel-um must be a positive number \(µm, the EDS map's pixel size\), not ".*eds-legend\.csv" \(that looks like a file: is the number missing\?\)\.$/],
      [['--pixel-um', '-2'], /--pixel-um needs a value/], // a dash: an option, not a value
      [['--pixel-um', '0'], /--pixel-um must be a positive number/],
      [['--pixel-um'], /--pixel-um needs a value/],
      [['--threads', '1.5'], /--threads must be a whole number ≥ 1/],
      [['--export', 'nrrd,png'], /--export takes a comma-separated list of ome-zarr, ome-zarr-v2, nrrd, nifti, tiff; "png" is none of them/],
      [['--classes', join(tmp, 'nope.json')], /--classes: the class table .*nope\.json does not exist/],
      [['--legend', files], /--legend: .* is a folder; give a file/],
      [['--frobnicate', '1'], /Unknown option --frobnicate/],
    ];
    for (const [extra, re] of cases) {
      const r = await run(['--volume', vol, '--eds', png, '--legend', legend, '--out', o, ...extra]);
      expect(isPetromapError(r.code, 'InvalidInput'), `${extra.join(' ')}: ${String(r.code)}`).toBe(true);
      expect((r.code as Error).message.split('\n')[0]).toMatch(re);
      expect(r.err).toBe('');
    }
    const missing = await run(['--eds', png, '--out', o]);
    expect((missing.code as Error).message).toMatch(/^--volume is required/);
    const gone = await run(['--volume', join(tmp, 'missing.nrrd'), '--eds', png, '--out', o]);
    expect((gone.code as Error).message).toMatch(/^--volume: the volume .*missing\.nrrd does not exist/);
    // a bad class table is read before the volume
    writeFileSync(join(tmp, 'bad.json'), '{ not json');
    const bad = await run(['--volume', vol, '--eds', png, '--legend', legend, '--out', o, '--classes', join(tmp, 'bad.json')]);
    expect((bad.code as Error).message).toMatch(/^--classes: .*bad\.json is not valid JSON/);
    // a map image without a pixel size: found from the map, before the volume file is imported
    const noPx = await run(['--volume', vol, '--eds', png, '--legend', legend, '--out', o]);
    expect(isPetromapError(noPx.code, 'InvalidInput')).toBe(true);
    expect((noPx.code as Error).message).toMatch(/eds-map\.png: its pixel size is unknown .*--pixel-um/);
    expect(noPx.err).toBe('');
    expect(readdirSync(tmp)).not.toContain('never');
  });
});
