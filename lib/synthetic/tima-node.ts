/**
 * A synthetic TESCAN TIMA project export with exact ground truth, for tests and demos: the layout
 * TIMA 1.6+/2.x writes (as in the public test data of CSIRO's tima-mindif-processor):
 *
 *   <root>/<Project>/<Project>.timaproj.data     DataSet: DirName, GUID, Parent (replicate), JobName
 *   <root>/<Project>/<Project>.timaproj.struct   SurveyGroup/Survey/Replicate guid caption (= sample)
 *   <root>/<Project>_MinDif/<guid>/measurement.xml, fields.xml, phases.xml,
 *                                  fields/<A01..>/phases.tif (uint16 ids), bse.png
 *
 * Each dataset is a grid of square fields on a round mount: grid cells outside the mount's circle
 * are not measured (their mosaic area is "not measured"). Inside the fields: a matrix phase, discs
 * of a second and third phase, a few tiny phases (fewer than 10 pixels each) and unclassified
 * speckle (phase 0). Stage positions follow TIMA's axes (column u grows as stage x falls, row v as
 * stage y grows), in µm.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encode } from 'fast-png';
import { tiffFileHeader, tiffPageBeforeData } from '../report/volume-headers';
import { mulberry32 } from './prng';

export interface SyntheticTimaPhase {
  id: number;
  name: string;
  color: string;
}

/** phases.xml of every dataset: id 0 unclassified, three main phases, two tiny ones, one absent. */
export const SYNTHETIC_TIMA_PHASES: SyntheticTimaPhase[] = [
  { id: 0, name: '[Unclassified]', color: '#000000' },
  { id: 12, name: 'Quartz', color: '#828282' },
  { id: 20, name: 'Albite', color: '#aed0cb' },
  { id: 46, name: 'Hematite_Magnetite', color: '#5555ff' },
  { id: 71, name: 'Zircon', color: '#ff00ff' },
  { id: 88, name: 'Monazité', color: '#ffaa00' },
  { id: 99, name: 'Calcite', color: '#0c24ff' },
];

/** pixels of the two tiny phases in every dataset (both below the 10 px minor threshold) */
export const SYNTHETIC_TIMA_TINY = { 71: 4, 88: 1 } as const;

export interface SyntheticTimaDatasetSpec {
  sampleName: string;
  jobName?: string;
  /** field grid (default 6 x 5) */
  cols?: number;
  rows?: number;
}

export interface SyntheticTimaOptions {
  project?: string;
  datasets?: SyntheticTimaDatasetSpec[];
  /** pixels per field side (default 16) */
  fieldPx?: number;
  /** field width in µm (default 160: 10 µm pixels) */
  viewFieldUm?: number;
  /** share of measured pixels left unclassified (default 0.03) */
  unclassified?: number;
  seed?: number;
}

export interface SyntheticTimaTruth {
  guid: string;
  sampleName: string;
  jobName: string;
  /** dataset folder relative to the root */
  path: string;
  width: number;
  height: number;
  pixelSizeUm: number;
  /** phase id per mosaic pixel; 0 = unclassified or not measured */
  labels: Uint16Array;
  /** 1 where a field covers the pixel */
  measured: Uint8Array;
  fields: number;
}

export interface SyntheticTimaProject {
  root: string;
  project: string;
  datasets: SyntheticTimaTruth[];
}

const hex = (rng: () => number, n: number) => Array.from({ length: n }, () => Math.floor(rng() * 16).toString(16)).join('');
const guidOf = (rng: () => number) => `${hex(rng, 8)}-${hex(rng, 4)}-4${hex(rng, 3)}-a${hex(rng, 3)}-${hex(rng, 12)}`;
const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
const NS = 'http://www.tescan.cz/tima/1_4';

/** One uncompressed uint16 TIFF page (little endian). */
function uint16Tiff(width: number, height: number, data: Uint16Array): Uint8Array {
  const page = tiffPageBeforeData({ width, height, dtype: 'uint16', pageStart: 8, last: true });
  const head = tiffFileHeader(8);
  const out = new Uint8Array(8 + page.header.length + data.length * 2 + page.padAfter);
  out.set(head, 0);
  out.set(page.header, 8);
  const dv = new DataView(out.buffer, 8 + page.header.length);
  for (let i = 0; i < data.length; i++) dv.setUint16(2 * i, data[i], true);
  return out;
}

/** The mosaic of one dataset: truth labels and the measured mask. */
function mosaic(cols: number, rows: number, F: number, unclassified: number, rng: () => number) {
  const W = cols * F, H = rows * F;
  const labels = new Uint16Array(W * H), measured = new Uint8Array(W * H);
  const present: boolean[] = [];
  // round mount: a field is measured when its centre lies inside the inscribed ellipse (+ a margin)
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
    const dx = (c + 0.5) / cols - 0.5, dy = (r + 0.5) / rows - 0.5;
    present.push(dx * dx + dy * dy <= 0.25 + 0.02);
  }
  const discs = Array.from({ length: 6 }, (_, k) => ({ x: rng() * W, y: rng() * H, r: F * (0.4 + rng() * 0.6), id: k % 3 === 2 ? 46 : 20 }));
  for (let v = 0; v < H; v++) for (let u = 0; u < W; u++) {
    const i = v * W + u;
    if (!present[Math.floor(v / F) * cols + Math.floor(u / F)]) continue;
    measured[i] = 1;
    let id = 12;
    for (const d of discs) if ((u - d.x) ** 2 + (v - d.y) ** 2 <= d.r * d.r) id = d.id;
    labels[i] = rng() < unclassified ? 0 : id;
  }
  // tiny phases on measured pixels, away from each other
  const cells = [...measured.keys()].filter((i) => measured[i]);
  let k = 0;
  for (const [id, n] of Object.entries(SYNTHETIC_TIMA_TINY)) for (let j = 0; j < n; j++) labels[cells[Math.floor(((k++ + 0.5) / 8) * cells.length)]] = Number(id);
  return { W, H, labels, measured, present };
}

/** Writes the project under `root` and returns its truth. */
export async function writeSyntheticTimaProject(root: string, opts: SyntheticTimaOptions = {}): Promise<SyntheticTimaProject> {
  const rng = mulberry32(opts.seed ?? 16);
  const project = opts.project ?? 'Demo';
  const specs = opts.datasets ?? [{ sampleName: 'GX-101' }, { sampleName: 'GX-202' }];
  const F = opts.fieldPx ?? 16, viewFieldUm = opts.viewFieldUm ?? 160;
  const minDif = `${project}_MinDif`;
  await mkdir(join(root, project), { recursive: true });
  const truths: SyntheticTimaTruth[] = [];
  const replicates: { guid: string; caption: string }[] = [];
  const dataSets: string[] = [];
  for (const spec of specs) {
    const cols = spec.cols ?? 6, rows = spec.rows ?? 5;
    const guid = guidOf(rng), rep = guidOf(rng);
    const jobName = spec.jobName ?? 'Modal analysis #1';
    const dir = join(root, minDif, guid);
    const m = mosaic(cols, rows, F, opts.unclassified ?? 0.03, rng);
    const fieldLines: string[] = [];
    let fields = 0;
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) {
      if (!m.present[r * cols + c]) continue;
      const name = `${String.fromCharCode(65 + r)}${String(c + 1).padStart(2, '0')}`;
      // field centre in µm: x falls as the column grows, y grows with the row
      fieldLines.push(`        <Field name="${name}" x="${5000 - (c + 0.5) * viewFieldUm}" y="${-3000 + (r + 0.5) * viewFieldUm}"/>`);
      const ids = new Uint16Array(F * F), bse = new Uint8Array(F * F);
      for (let v = 0; v < F; v++) for (let u = 0; u < F; u++) {
        const id = m.labels[(r * F + v) * m.W + c * F + u];
        ids[v * F + u] = id;
        bse[v * F + u] = Math.min(255, (id === 46 ? 200 : id === 20 ? 110 : id === 12 ? 100 : 30) + Math.floor(rng() * 10));
      }
      const fdir = join(dir, 'fields', name);
      await mkdir(fdir, { recursive: true });
      await writeFile(join(fdir, 'phases.tif'), uint16Tiff(F, F, ids));
      await writeFile(join(fdir, 'bse.png'), encode({ width: F, height: F, data: bse, channels: 1, depth: 8 }));
      fields++;
    }
    await writeFile(join(dir, 'measurement.xml'), `<?xml version="1.0" encoding="UTF-8"?>
<ExportedMeasurementData Revision="1" xmlns="${NS}">
    <Id>{${guid}}</Id>
    <StartDate>2026-11-0${truths.length + 1}T09:00:00+00:00</StartDate>
    <Origin>petromap synthetic TIMA</Origin>
    <ViewField>${viewFieldUm}</ViewField>
    <ImageWidth>${F}</ImageWidth>
    <ImageHeight>${F}</ImageHeight>
    <SemImages><SemImage><FileName>bse.png</FileName><Caption>BSE</Caption></SemImage></SemImages>
    <SampleDef><SampleShape>Circle</SampleShape><SampleDiameter>${cols * viewFieldUm}</SampleDiameter></SampleDef>
</ExportedMeasurementData>
`);
    await writeFile(join(dir, 'fields.xml'), `<?xml version="1.0" encoding="UTF-8"?>
<ExportedMeasurementFields Revision="1" xmlns="${NS}">
    <FieldDir>fields</FieldDir>
    <Fields>
${fieldLines.join('\n')}
    </Fields>
</ExportedMeasurementFields>
`);
    await writeFile(join(dir, 'phases.xml'), `<?xml version="1.0" encoding="UTF-8"?>
<ExportedMeasurementPhases Revision="1" xmlns="${NS}">
    <PrimaryPhases>
${SYNTHETIC_TIMA_PHASES.map((p) => `        <PrimaryPhase id="${p.id}" name="${xmlEscape(p.name)}" color="${p.color}" mass="0"/>`).join('\n')}
    </PrimaryPhases>
</ExportedMeasurementPhases>
`);
    replicates.push({ guid: rep, caption: spec.sampleName });
    dataSets.push(`    <DataSet>
        <DirName>${guid}</DirName>
        <GUID>{${guid}}</GUID>
        <Parent>{${rep}}</Parent>
        <JobName>${xmlEscape(jobName)}</JobName>
        <AnalysisType>Modal analysis</AnalysisType>
    </DataSet>`);
    truths.push({ guid, sampleName: spec.sampleName, jobName, path: `${minDif}/${guid}`, width: m.W, height: m.H, pixelSizeUm: viewFieldUm / F, labels: m.labels, measured: m.measured, fields });
  }
  // one replicate per distinct sample name (two datasets of one sample share it)
  const bySample = new Map<string, string>();
  truths.forEach((t, k) => bySample.set(t.sampleName, bySample.get(t.sampleName) ?? replicates[k].guid));
  await writeFile(join(root, project, `${project}.timaproj.data`), `<?xml version="1.0" encoding="UTF-8"?>
<ProjectData revision="1">
    <Origin>petromap synthetic TIMA</Origin>
${dataSets.map((d, k) => d.replace(`{${replicates[k].guid}}`, `{${bySample.get(truths[k].sampleName)}}`)).join('\n')}
</ProjectData>
`);
  await writeFile(join(root, project, `${project}.timaproj.struct`), `<?xml version="1.0" encoding="UTF-8"?>
<ProjectStructure revision="2">
    <SurveyGroup guid="{${guidOf(rng)}}" caption="Surveys">
        <Survey guid="{${guidOf(rng)}}" caption="Nov26" scheme="synthetic">
${[...bySample].map(([caption, g]) => `            <Replicate guid="{${g}}" SampleShape="Circle" blockName="${xmlEscape(caption)}" caption="${xmlEscape(caption)}"/>`).join('\n')}
        </Survey>
    </SurveyGroup>
</ProjectStructure>
`);
  return { root, project, datasets: truths };
}
