/**
 * Issue 16 §2: TIMA project folders as mineralogists read them. Ground truth from the synthetic
 * TIMA project writer (lib/synthetic/tima-node.ts): several datasets with sample names, round
 * mounts whose fields do not cover the mosaic rectangle, unclassified speckle and tiny phases.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importMineralMap } from '../../../lib/eds/import-node';
import { groupMinorPhases, phaseAreas } from '../../../lib/eds/minor-phases';
import { NOT_MEASURED_HATCH, previewLegendRows, previewText } from '../../../lib/eds/preview';
import { loadMineralMap, saveMineralMap } from '../../../lib/eds/store-node';
import { listTimaDatasets } from '../../../lib/eds/tima-datasets-node';
import { parseTimaProjectData, parseTimaProjectStruct, parseTimaSurveys, timaProjectEntries } from '../../../lib/eds/tima-project';
import { notMeasuredFraction, unclassifiedFraction, type MineralMap } from '../../../lib/eds/types';
import { isPetromapError } from '../../../lib/errors';
import { transferLabels } from '../../../lib/registration/transfer-labels';
import type { Affine2to3 } from '../../../lib/coords';
import { SYNTHETIC_TIMA_TINY, writeSyntheticTimaProject, type SyntheticTimaProject } from '../../../lib/synthetic/tima-node';

const REPO = join(__dirname, '../../..');
const TIMA_STA = join(REPO, '../shared/data/tima-sta');

let dir: string;
let proj: SyntheticTimaProject;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'petromap-timaproj-'));
  proj = await writeSyntheticTimaProject(join(dir, 'export'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const fail = async (p: Promise<unknown>) => {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(isPetromapError(e, 'InvalidInput')).toBe(true);
  return e as Error & { details?: Record<string, unknown> };
};

function countOf(a: ArrayLike<number>, pred: (i: number) => boolean): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (pred(i)) n++;
  return n;
}

describe('TIMA project files', () => {
  it('reads sample names from .timaproj.data + .timaproj.struct, and TIMA 1.4 Surveys.xml', () => {
    const data = parseTimaProjectData('<ProjectData><DataSet><DirName>ab-1</DirName><GUID>{AB-1}</GUID><Parent>{R1}</Parent><JobName>Modal #1</JobName></DataSet></ProjectData>');
    const struct = parseTimaProjectStruct('<ProjectStructure><SurveyGroup caption="S"><SurveyGroup caption="sub"><Survey caption="Oct"><Replicate guid="{r1}" caption="GXDD0089-286.4"/></Survey></SurveyGroup></SurveyGroup></ProjectStructure>');
    expect(timaProjectEntries(data, struct)).toEqual([{ guid: 'ab-1', dirName: 'ab-1', sampleName: 'GXDD0089-286.4', survey: 'Oct', jobName: 'Modal #1', analysisType: undefined }]);
    expect(parseTimaSurveys('<Surveys><Survey caption="A"><Replicate caption="Core 7"><Dataset guid="{C0FFEE00-1}"/></Replicate></Survey></Surveys>')).toEqual([{ guid: 'c0ffee00-1', sampleName: 'Core 7', survey: 'A' }]);
  });
});

describe('a TIMA project folder holding several datasets', () => {
  it('lists the datasets with their sample names, ids, field counts and pixel size', async () => {
    const list = await listTimaDatasets(proj.root);
    expect(list.map((d) => d.label)).toEqual(proj.datasets.map((t) => t.sampleName).sort((a, b) => (proj.datasets.find((t) => t.sampleName === a)!.guid < proj.datasets.find((t) => t.sampleName === b)!.guid ? -1 : 1)));
    for (const t of proj.datasets) {
      const d = list.find((x) => x.id === t.guid)!;
      expect(d).toMatchObject({ path: t.path, sampleName: t.sampleName, jobName: t.jobName, fields: t.fields, fieldWidthPx: 16, pixelSizeUm: 10 });
    }
  });

  it('without a choice: an error naming every dataset by sample and id, with the list in its details', async () => {
    const e = await fail(importMineralMap({ map: proj.root }));
    expect(e.message).toMatch(/^TIMA project export holds 2 datasets: /);
    for (const t of proj.datasets) expect(e.message).toContain(`${t.sampleName} (${t.guid.slice(0, 8)}…)`);
    expect((e.details?.timaDatasets as unknown[]).length).toBe(2);
  });

  it('imports the chosen dataset pixel for pixel, named by its sample, with not measured apart from unclassified', async () => {
    const t = proj.datasets[1];
    const map = await importMineralMap({ map: proj.root, dataset: t.sampleName.toLowerCase() });
    expect(map.sampleName).toBe(t.sampleName);
    expect([map.width, map.height, map.pixelSizeUm]).toEqual([t.width, t.height, t.pixelSizeUm]);
    expect(Buffer.from(map.labels.buffer).equals(Buffer.from(t.labels.buffer))).toBe(true);
    expect(Buffer.from(map.measured!).equals(Buffer.from(t.measured))).toBe(true);
    const n = t.labels.length;
    const notMeasured = countOf(t.measured, (i) => !t.measured[i]);
    const unclassified = countOf(t.labels, (i) => t.measured[i] === 1 && t.labels[i] === 0);
    expect(notMeasured / n).toBeGreaterThan(0.05); // the round mount leaves the corners unmeasured
    expect(unclassified / n).toBeGreaterThan(0.01);
    expect(notMeasuredFraction(map)).toBe(notMeasured / n);
    expect(unclassifiedFraction(map)).toBe(unclassified / n);
    // the legend: phases that occur (the absent Calcite is not listed; tiny phases are)
    expect(map.legend.map((p) => p.name)).toEqual(['Quartz', 'Albite', 'Hematite_Magnetite', 'Zircon', 'Monazité']);
    // and by GUID prefix, braces and case ignored
    const byId = await importMineralMap({ map: proj.root, dataset: `{${proj.datasets[0].guid.slice(0, 6).toUpperCase()}` });
    expect(byId.sampleName).toBe(proj.datasets[0].sampleName);
  });

  it('refuses a name it does not hold, listing what it holds', async () => {
    const e = await fail(importMineralMap({ map: proj.root, dataset: 'GX-999' }));
    expect(e.message).toMatch(/holds no TIMA dataset "GX-999"; it holds GX-101 \(.*\), GX-202 \(/);
  });

  it('two datasets of one sample are told apart by their job, and the sample name alone is ambiguous', async () => {
    const twin = await writeSyntheticTimaProject(join(dir, 'twin'), { datasets: [{ sampleName: 'S1', jobName: 'Modal 10um' }, { sampleName: 'S1', jobName: 'Modal 3um', cols: 3, rows: 3 }], seed: 3 });
    const list = await listTimaDatasets(twin.root);
    expect(list.map((d) => d.label).sort()).toEqual(['S1 · Modal 10um', 'S1 · Modal 3um']);
    const e = await fail(importMineralMap({ map: twin.root, dataset: 's1' }));
    expect(e.message).toMatch(/"s1" matches 2 TIMA datasets/);
    const m = await importMineralMap({ map: twin.root, dataset: 'S1 · Modal 3um' });
    expect([m.width, m.height]).toEqual([48, 48]);
  });

  it('a single dataset folder imports as before; its sample is unnamed without project files', async () => {
    const t = proj.datasets[0];
    const map = await importMineralMap({ map: join(proj.root, t.path) });
    expect(map.sampleName).toBeUndefined();
    expect(Buffer.from(map.labels.buffer).equals(Buffer.from(t.labels.buffer))).toBe(true);
  });

  it('stores and loads the measured-area mask and the sample name', async () => {
    const map = await importMineralMap({ map: proj.root, dataset: 'GX-101' });
    const out = join(dir, 'store');
    await saveMineralMap(out, map);
    const json = JSON.parse(await readFile(join(out, 'map.json'), 'utf8'));
    expect(json).toMatchObject({ sampleName: 'GX-101', measured: 'measured.u8' });
    expect(json.notMeasuredFraction).toBeCloseTo(notMeasuredFraction(map), 12);
    expect(json.unclassifiedFraction).toBeCloseTo(unclassifiedFraction(map), 12);
    expect(json.legend.find((p: { name: string }) => p.name === 'Zircon').pixels).toBe(SYNTHETIC_TIMA_TINY[71]);
    const back = await loadMineralMap(out);
    expect(back.sampleName).toBe('GX-101');
    expect(Buffer.from(back.measured!).equals(Buffer.from(map.measured!))).toBe(true);
  });

  it('training labels leave out both not-measured and unclassified pixels', async () => {
    const t = proj.datasets[0];
    const map = await importMineralMap({ map: proj.root, dataset: t.guid });
    const classMap = Object.fromEntries(map.legend.map((p) => [p.id, 2]));
    const s = transferLabels(map, { edsToSlab: [1, 0, 0, 0, 1, 0], slabToVoxel: [0, 0, 0, 1, 0, 0, 0, 1, 0] as unknown as Affine2to3 }, { width: map.width, height: map.height }, classMap, { erodeRadius: 0 });
    let leaked = 0, kept = 0;
    for (let i = 0; i < s.labels.length; i++) {
      if (!t.measured[i] || t.labels[i] === 0) leaked += s.labels[i] ? 1 : 0;
      else kept += s.labels[i] ? 1 : 0;
    }
    expect(leaked).toBe(0);
    expect(kept).toBe(countOf(t.labels, (i) => t.labels[i] !== 0));
  });
});

describe('minor phases', () => {
  it('groups phases under the threshold, keeping them in the data', async () => {
    const map = await importMineralMap({ map: proj.root, dataset: 'GX-101' });
    const g = groupMinorPhases(phaseAreas(map));
    expect(g.major.map((p) => p.name)).toEqual(['Quartz', 'Albite', 'Hematite_Magnetite'].sort((a, b) => phaseAreas(map).find((p) => p.name === b)!.pixels - phaseAreas(map).find((p) => p.name === a)!.pixels));
    expect(g.minor).toMatchObject({ thresholdPx: 10, pixels: 5 });
    expect(g.minor!.phases.map((p) => p.name)).toEqual(['Zircon', 'Monazité']);
    expect(groupMinorPhases(phaseAreas(map), 2).minor!.phases.map((p) => p.name)).toEqual(['Monazité']);
    expect(groupMinorPhases(phaseAreas(map), 0).minor).toBeNull();
    // rows with only an area fraction (the web legend): pixels from the map's size
    const fromFractions = groupMinorPhases(phaseAreas(map).map(({ pixels: _p, ...r }) => r), 10, map.labels.length);
    expect(fromFractions.minor!.phases).toHaveLength(2);
  });

  it('the preview legend: major phases, one minor row with its threshold, unclassified, not measured', async () => {
    const map = await importMineralMap({ map: proj.root, dataset: 'GX-101' });
    const rows = previewLegendRows(map).map((r) => r.name);
    expect(rows.slice(3)).toEqual(['2 minor phases (< 10 px each)', 'unclassified', 'not measured']);
    expect(previewText('Monazité µm')).toBe('Monazite µm');
  });
});

function runCli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [join(REPO, 'bin/petromap.mjs'), 'import-eds', ...args], { cwd: REPO });
    let out = '', err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

describe('petromap import-eds on a project folder', () => {
  it('without --dataset: exit 1, one line naming the datasets and the flag, nothing written', async () => {
    const out = join(dir, 'cli-none');
    const r = await runCli([proj.root, '--out', out]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^petromap import-eds: TIMA project export holds 2 datasets: GX-\d+ \(.*\), GX-\d+ \(.*\)\. Choose one with --dataset <sample name or id>\.\n$/);
    expect(existsSync(out)).toBe(false);
  });

  it('--dataset and --preview: the chosen sample stored, the PNG shows the mosaic (not measured hatched) and its legend', async () => {
    const out = join(dir, 'cli-one'), png = join(dir, 'preview.png');
    const r = await runCli([proj.root, '--dataset', 'GX-202', '--preview', png, '--out', out]);
    // stderr holds only the next step (stdout stays the JSON summary)
    expect(r.err).toMatch(/^petromap import-eds: next: register it on the volume: petromap register [^\n]*\n$/);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.out);
    const t = proj.datasets.find((d) => d.sampleName === 'GX-202')!;
    expect(s).toMatchObject({ sampleName: 'GX-202', width: t.width, height: t.height, preview: png, minorPhases: { thresholdPx: 10, count: 2, pixels: 5 } });
    expect(s.notMeasuredPercent).toBeCloseTo((100 * countOf(t.measured, (i) => !t.measured[i])) / t.labels.length, 1);
    const img = decode(await readFile(png));
    expect(img.channels).toBe(3);
    // the map is enlarged by a whole factor and drawn 16 px from the top-left corner
    const up = Math.floor(400 / Math.max(t.width, t.height));
    const colour = (u: number, v: number) => Array.from(img.data.subarray(((16 + v * up) * img.width + 16 + u * up) * 3, ((16 + v * up) * img.width + 16 + u * up) * 3 + 3));
    const quartz = [0x82, 0x82, 0x82];
    let checked = 0;
    for (let v = 0; v < t.height; v += 3) for (let u = 0; u < t.width; u += 3) {
      const i = v * t.width + u;
      if (!t.measured[i]) expect(NOT_MEASURED_HATCH.map(String)).toContain(String(colour(u, v)));
      else if (t.labels[i] === 12) (expect(colour(u, v)).toEqual(quartz), checked++);
      else if (t.labels[i] === 0) expect(colour(u, v)).toEqual([0, 0, 0]);
    }
    expect(checked).toBeGreaterThan(50);
    expect(img.width).toBeGreaterThan(16 + t.width * up + 200); // the legend panel to the right
  });

  it.skipIf(!existsSync(join(TIMA_STA, 'measurement.xml')))('the real export (tima-sta) lists as one dataset named by its GUID folder', async () => {
    const list = await listTimaDatasets(TIMA_STA);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ path: '.', id: 'tima-sta', fields: 308, fieldWidthPx: 83 });
    const m = (await importMineralMap({ map: TIMA_STA })) as MineralMap;
    expect(groupMinorPhases(phaseAreas(m)).minor!.phases.length).toBe(15);
  });
});

describe('modal mineralogy of a TIMA map', () => {
  it('counts unclassified, not measured and dropped EDS pixels apart from the classified ones', async () => {
    const { modalMineralogy } = await import('../../../lib/report/modal');
    const { memoryVolumeStore } = await import('../../../lib/volume/memory-store');
    const t = proj.datasets[0];
    const map = await importMineralMap({ map: proj.root, dataset: t.guid });
    const labels = memoryVolumeStore({ meta: { shape: [1, 2, 2], spacingUm: [1, 1, 1], originUm: [0, 0, 0], dtype: 'uint8', channels: ['labels'] }, data: Uint8Array.of(2, 2, 3, 0) });
    // Quartz and Albite -> 2, Hematite -> 3; the tiny phases are left out of the class table
    const m = await modalMineralogy(labels, [{ code: 2, name: 'quartz' }, { code: 3, name: 'feldspar' }], { map, classMap: { 12: 2, 20: 2, 46: 3, 71: null, 88: null } });
    const n = t.labels.length;
    const notMeasured = countOf(t.measured, (i) => !t.measured[i]);
    const unclassified = countOf(t.labels, (i) => t.measured[i] === 1 && t.labels[i] === 0);
    expect(m).toMatchObject({ edsMapPixels: n, edsNotMeasuredPixels: notMeasured, edsUnclassifiedPixels: unclassified, edsDroppedPixels: 5 });
    expect(m.totalEdsPixels! + notMeasured + unclassified + 5).toBe(n);
    expect(m.rows.reduce((a, r) => a + r.edsAreaPercent!, 0)).toBeCloseTo(100, 9);
  });
});

describe('hostile TIMA project folders', () => {
  it('follows no links out of the folder, and a damaged project file leaves the samples unnamed', async () => {
    const { cp, mkdir, symlink, writeFile } = await import('node:fs/promises');
    const root = join(dir, 'hostile');
    await mkdir(root);
    const t = proj.datasets[0];
    await cp(join(proj.root, t.path), join(root, 'inside'), { recursive: true });
    // a dataset folder that is a link to one outside: not listed, never read
    await symlink(join(proj.root, proj.datasets[1].path), join(root, 'outside-link'));
    await writeFile(join(root, 'P.timaproj.data'), '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa">]><ProjectData>&a;</ProjectData>');
    const list = await listTimaDatasets(root);
    expect(list.map((d) => d.id)).toEqual(['inside']);
    expect(list[0].sampleName).toBeUndefined();
    await fail(importMineralMap({ map: root, dataset: 'outside-link' }));
  });
});
