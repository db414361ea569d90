/**
 * `petromap register`: registers an EDS mineral map onto the polished surface inside an XRM volume
 * and writes the transform (its model, edsToVoxel with named axes, edsToSlab, surface plane),
 * quality figures and the model choice as JSON, with an elastix TransformParameters file and the
 * EDS labels as a one-slice MetaImage beside it, so `transformix` can put the map into the volume.
 * A thin adapter over lib/registration: on failure it prints the message and sets exit code 1.
 */
import { statSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { invalidInput, isPetromapError, unprocessable } from '../errors';
import type { MineralMap } from '../eds/types';
import { parseCommandArgs, readJsonOption } from './args';
import { progressBar } from './progress';
import { registerEdsOnFace } from '../registration/face';
import type { RegistrationWithSlab } from '../registration/register-eds';
import { openVolumeInput } from '../registration/read-inputs-node';
import { readEdsInput } from './eds-input';
import { faceView } from '../registration/face';
import { searchMapScale, type ScaleSearchResult } from '../registration/scale-search';
import { checkScaleSummary, parseScaleRange, readMapToCheck } from './check-scale';
import { nextAfterRegister } from './next-step';
import { cliSurfaceAdvice, unverifiedRegistration } from './registration-doubt';
import { regularFields } from '../registration/refine-fields';
import { edsLabelsMha, elastixTransformText, namedEdsToVoxel } from '../registration/transform-export';
import type { FieldRect, LandmarkPair } from '../registration/types';
import type { VolumeMeta } from '../volume/types';
import { cliVoxelSizeAdvice, warnIfSpacingAssumed, type SpacingSource } from './voxel-size';

export { unverifiedRegistration };

export const USAGE = `usage: petromap register --volume <store.ome.zarr|file|folder> --map <map.png|TIMA folder|folder from import-eds> [legend.csv] [--pixel-um <µm>]
    [--face top|bottom] [--model auto|similarity|affine|fields] [--fields <cols>x<rows>|tima] [--landmarks pairs.json] [--companion BSE]
    [--find-pixel-size [--pixel-size-range <low>,<high>]] [--out registration.json] [--json]
  Registers the EDS map onto the polished surface inside the volume.
  --find-pixel-size  when the map's pixel size may be wrong (a binned export, a typo, another magnification's calibration):
             first finds the pixel size at which the map matches the surface best, as petromap check-scale does (0.5 to 2
             times the given one; 5-11 times the CPU of one registration), then registers at that size, starting from the
             pose found there. Prints "the map matches best at X µm per pixel (given Y)"; the JSON's pixelSizeSearch holds
             both. Refused when no pixel size gives a distinct match (nothing is written), and with --landmarks. With it,
             --pixel-um on a map from import-eds is the size to search around (the map's own otherwise), and
             --pixel-size-range <low>,<high> sets the factors searched (default 0.5,2), as check-scale's --range.
  --face     which polished face the map shows: top (default: air above it, at low z) or bottom (air below it, at high z; the
             map is registered on the volume turned upside down, z -> nz - 1 - z). For a bottom map, edsToVoxel and the
             elastix file are in the volume's own voxel indices; surface, slabToVoxel and edsToSlab are of the upside-down
             volume (what petromap train reads back) and landmarks' voxel positions are given in it too.
  --model    auto (default): similarity, then an affine only where the map supports it (held-out halves of the map,
             patch residuals, stretch within ±10 %), then per-field shifts when --fields is given and a field moved;
             similarity | affine | fields force one model. fields uses the TIMA export's own field layout (stage
             positions and field size from fields.xml / measurement.xml); other maps need --fields <cols>x<rows>.
  --fields   the fields of a stitched mosaic: <cols>x<rows> (e.g. 4x3 = 4 columns, 3 rows of equal fields; overrides
             a TIMA layout), or tima (the TIMA export's field layout; refused for a map that is not a TIMA export).
             A field with no distinct match keeps the global transform, or its neighbours' shift where neighbouring
             fields moved alike (stage drift). Refused with --model similarity|affine (they do not shift fields).
  Writes <out> (JSON), <out>.TransformParameters.txt (elastix/ITK 3D AffineTransform: fixed image = the volume in µm,
  moving image = <out>.eds-labels.mha, the EDS labels as a one-slice image; "transformix -tp <that file> -in
  <out>.eds-labels.mha -out <dir>" puts the labels on the registered surface voxels) and <out>.eds-labels.mha.
  --json: the same JSON on stdout (no progress bar). Its fields:
    model: "similarity" | "affine" | "fields" (the transform's model); face: "top" | "bottom"
    modelChoice: { requested, kept, reason, patches, heldOutRmsVox: { similarity, affine, fields }, heldOutGain?: [a, b], affineStretch?: [s1, s2] }
      (heldOutRmsVox.fields is the fields' fit residual on their own patches, not held out; a per-field registration's
      held-out error is quality.confidence.readings.heldOutRmsVox, the whole-map transform's under the fields)
    edsToVoxel: { from: "EDS pixel (u, v)", to: "voxel index (x, y, z)", x: { u, v, offset }, y: {...}, z: {...} }
      (voxel x = x.u * u + x.v * v + x.offset; older files hold a flat 9-vector with rows z, y, x: both are read)
    edsToSlab: [a, b, c, d, e, f] (slab u = a*u + b*v + c, slab v = d*u + e*v + f); slabToVoxel: 9-vector, rows z, y, x; slabSize: [w, h]
    fields?: [{ name, u0, v0, width, height, shiftPx: [du, dv], overlap, moved }] (model "fields": EDS pixel p of a field lies at edsToVoxel(p + shiftPx))
    fieldLayout?: "tima" | "grid <cols>x<rows>" (the fields measured, when per-field shifts were refined)
    residual?: { cols, rows, patchPx: [w, h], misfitVox: [per patch, row-major; null = off the volume] }
    surface: { a, b, c, tiltDeg, azimuthDeg, residualRms, inlierFraction, threshold } (plane z = a*x + b*y + c, voxels)
    quality: { miBefore, miAfter, scoreAfter, coverage, landmarkResiduals?, initialisation, refinedBy, coarseMi?, secondMi?,
      confidence: { verdict: "confirmed" | "doubtful", reason, readings: { heldOutRmsVox, patches, miRatio, coverage, landmarkRmsVox } } }
      (doubtful: nothing confirms the registration, it is written and a warning says what to check; petromap run stops on it)
    pixelSizeSearch?: { givenPixelUm, pixelUm, factor, plausible, distinctRatio, scoreRatio, skippedPixelUm } (--find-pixel-size: registered at pixelUm)
    transformFile, movingImage: the files written beside <out>; volume, map: the inputs.`;

const SPEC = {
  usage: USAGE,
  options: {
    volume: { kind: 'path', must: 'exist', required: true, what: 'volume' },
    map: { kind: 'path', must: 'exist', required: true, what: 'EDS map' },
    'pixel-um': { kind: 'number', min: 0, exclusiveMin: true, unit: 'µm' },
    face: { kind: 'string', choices: ['top', 'bottom'] },
    model: { kind: 'string', choices: ['auto', 'similarity', 'affine', 'fields'] },
    fields: { kind: 'string' },
    landmarks: { kind: 'path', must: 'file', what: 'landmarks JSON' },
    companion: { kind: 'string' },
    'find-pixel-size': { kind: 'flag' },
    'pixel-size-range': { kind: 'string' },
    out: { kind: 'string' },
    json: { kind: 'flag' },
  },
  positionals: { max: 1, name: 'legend CSV' },
} as const;

export type RegisterArgs = ReturnType<typeof parseRegisterArgs>;

/** Only a folder (or its measurement.xml) can be a TIMA export with its own field layout. */
const mayBeTima = (map: string) => basename(map).toLowerCase() === 'measurement.xml' || !!statSync(map, { throwIfNoEntry: false })?.isDirectory();

/** Checks every argument before any work. */
export function parseRegisterArgs(argv: string[]) {
  const { values: a, positionals } = parseCommandArgs(argv, SPEC);
  let grid: [number, number] | undefined;
  let tima = false;
  if (a.fields !== undefined) {
    const m = /^(\d{1,3})x(\d{1,3})$/.exec(a.fields);
    tima = a.fields.trim().toLowerCase() === 'tima';
    if (!tima && (!m || +m[1] < 1 || +m[2] < 1)) throw invalidInput(`--fields must be <columns>x<rows> of the mosaic (e.g. 4x3) or tima (the TIMA export's own layout), not "${a.fields}".`);
    if (m) grid = [+m[1], +m[2]];
  }
  const model = a.model ?? 'auto';
  // a field layout only serves the per-field shifts: with a model that has none it would be ignored
  if (a.fields !== undefined && (model === 'similarity' || model === 'affine')) {
    throw invalidInput(`--fields ${a.fields} gives the mosaic's fields for per-field shifts, but --model ${model} moves the whole map as one ${model} transform and would ignore them: use --model fields (or auto, which keeps the field shifts only where a field moved), or leave --fields out.`);
  }
  // without a grid, per-field registration needs the TIMA export's layout (checked again once the map is read)
  if ((tima || (model === 'fields' && !grid)) && !mayBeTima(a.map)) throw noTimaLayout(a.map, tima);
  if (a['find-pixel-size'] && a.landmarks !== undefined) {
    throw invalidInput('--find-pixel-size searches the pose automatically at each pixel size; --landmarks place the map by hand (their fit needs no pixel size search): give one of them.');
  }
  if (a['pixel-size-range'] !== undefined && !a['find-pixel-size']) throw invalidInput('--pixel-size-range sets the pixel sizes --find-pixel-size searches: give --find-pixel-size with it.');
  const pixelSizeRange = parseScaleRange(a['pixel-size-range'], '--pixel-size-range');
  return { ...a, pixelSizeRange, model, grid, tima, legend: positionals[0], out: a.out ?? 'registration.json' };
}

function noTimaLayout(map: string, tima: boolean) {
  return tima
    ? invalidInput(`--fields tima: the EDS map ${basename(map)} is not a TIMA export, so it has no field layout of its own; give the mosaic's grid instead (--fields <columns>x<rows>).`)
    : invalidInput(`--model fields needs the field grid of the mosaic: the EDS map ${basename(map)} is not a TIMA export (which carries its own field layout); add --fields <columns>x<rows>.`);
}

/**
 * The fields of per-field registration: the grid when given (it overrides a TIMA layout), else
 * the TIMA export's layout for --fields tima and --model fields; none otherwise (the automatic
 * model does not refine per field unless asked).
 */
export function registerFields(a: Pick<RegisterArgs, 'grid' | 'tima' | 'model' | 'map'>, map: MineralMap): FieldRect[] | undefined {
  if (a.grid) return regularFields(map.width, map.height, a.grid[0], a.grid[1]);
  if (!a.tima && a.model !== 'fields') return undefined;
  if (!map.fields?.length) throw noTimaLayout(a.map, a.tima);
  return map.fields;
}

async function readLandmarks(path: string): Promise<LandmarkPair[]> {
  const json = await readJsonOption('landmarks', path);
  const list = Array.isArray(json) ? json : (json as { landmarks?: unknown }).landmarks;
  if (!Array.isArray(list)) throw invalidInput(`Landmarks ${path}: expected a JSON array of { eds: [u, v], slab: [u, v] | voxel: [z, y, x] }.`);
  return list as LandmarkPair[];
}

async function writeAtomic(path: string, data: string | Uint8Array) {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, data);
  await rename(tmp, path);
}

/** The JSON document of a registration (what --json prints and <out> holds). */
export function registrationJson(r: RegistrationWithSlab, files: { volume: string; map: string; transformFile: string; movingImage: string }) {
  const { slab: _slab, edsToVoxel, surface, ...rest } = r;
  return {
    model: r.model ?? 'similarity',
    ...rest,
    face: r.face ?? 'top',
    edsToVoxel: namedEdsToVoxel(edsToVoxel),
    surface: { ...surface, heightMap: undefined },
    ...files,
  };
}

/** Which fields per-field registration used: "grid CxR" or "tima" (the export's own layout). */
const fieldLayoutName = (a: Pick<RegisterArgs, 'grid'>) => (a.grid ? `grid ${a.grid[0]}x${a.grid[1]}` : 'tima');

/** What --find-pixel-size found, as the JSON records it (the registration used pixelUm). */
export const pixelSizeSearchJson = (s: ScaleSearchResult) => ({
  givenPixelUm: s.givenPixelUm, pixelUm: s.pixelUm, factor: s.factor, plausible: s.plausible, distinctRatio: s.distinctRatio, scoreRatio: s.scoreRatio,
  skippedPixelUm: s.skipped.map((k) => k * s.givenPixelUm),
});

async function writeOutputs(r: RegistrationWithSlab, map: MineralMap, meta: VolumeMeta, a: RegisterArgs, fields: FieldRect[] | undefined, found?: ScaleSearchResult) {
  const base = a.out.replace(/\.json$/i, '');
  const transformFile = `${base}.TransformParameters.txt`, movingImage = `${base}.eds-labels.mha`;
  const json = {
    ...registrationJson(r, { volume: a.volume, map: a.map, transformFile, movingImage }), ...(fields ? { fieldLayout: fieldLayoutName(a) } : {}),
    ...(found ? { pixelSizeSearch: pixelSizeSearchJson(found) } : {}),
  };
  await writeAtomic(movingImage, edsLabelsMha(map.labels, map.width, map.height));
  await writeAtomic(transformFile, elastixTransformText(r.edsToVoxel, meta, r.model ?? 'similarity'));
  await writeAtomic(a.out, JSON.stringify(json, null, 2) + '\n');
  return json;
}

const MODEL_WORDS = { similarity: 'shift, rotation and one scale', affine: 'shift, rotation, scale and a stretch or shear', fields: 'each field of the mosaic shifted on its own' } as const;

/**
 * The one line `register` prints when it succeeds: the model kept in plain words, the alignment
 * error (the held-out patch misfit of that model, or the landmarks' misfit) in voxels and µm, the
 * share of the map on the volume, and where every other figure is (the output file, --json).
 */
export function registerSummary(r: Pick<RegistrationWithSlab, 'model' | 'modelChoice' | 'quality'>,
  o: { map: string; volume: string; face: string; out: string; transformFile: string; voxelUm: number; fields?: string }): string {
  const model = r.model ?? 'similarity';
  const vox = (v: number) => `${v.toFixed(2)} voxel = ${+(v * o.voxelUm).toPrecision(2)} µm`;
  const lm = r.quality.landmarkResiduals;
  // a per-field registration: the held-out error is the global transform's under the fields (its confidence's reading);
  // heldOutRmsVox.fields is the fields' own fit residual, not held out (each field's shift is fitted on those patches)
  const fieldsFit = model === 'fields' ? r.modelChoice?.heldOutRmsVox.fields : undefined;
  const held = model === 'fields' ? r.quality.confidence?.readings.heldOutRmsVox : r.modelChoice?.heldOutRmsVox[model];
  const ok = (v: number | null | undefined): v is number => v != null && Number.isFinite(v);
  const error = lm?.length
    ? `landmarks off by ${vox(Math.sqrt(lm.reduce((t, d) => t + d * d, 0) / lm.length))} (RMS over ${lm.length})`
    : ok(held)
      ? `alignment error ${vox(held)} (RMS over ${r.modelChoice!.patches} map patches, each held out${model === 'fields' ? ', of the whole-map transform under the fields' : ''})`
      : ok(fieldsFit)
        ? `alignment error not measured (too few map patches lie on the volume; the fields fit their own patches to ${vox(fieldsFit)}, not held out)`
        : 'alignment error not measured (too few map patches lie on the volume)';
  return `registered ${o.map} onto the ${o.face} face of ${o.volume}: ${model} model (${MODEL_WORDS[model]}${o.fields ? `, ${o.fields}` : ''}), ${error}, ` +
    `${(100 * r.quality.coverage).toFixed(0)} % of the map on the volume; details (every figure, why this model): ${o.out} or --json; transform: ${o.transformFile}`;
}

export async function main(argv: string[]): Promise<void> {
  try {
    const a = parseRegisterArgs(argv);
    const landmarks = a.landmarks ? await readLandmarks(a.landmarks) : undefined;
    // --find-pixel-size: --pixel-um on a stored map is the size to search around, as check-scale reads it
    const map = a['find-pixel-size'] ? await readMapToCheck(a) : await readEdsInput(a.map, a.legend, a['pixel-um'], { flag: '--map' });
    const fields = registerFields(a, map);
    const quiet = a.json ? undefined : progressBar('import');
    const opened = await openVolumeInput(a.volume, { onProgress: quiet });
    // the scale at which the map is searched rests on the voxel size: say once when it was assumed
    const voxelSizeAssumed = (opened.store as SpacingSource).spacingAssumed === true;
    warnIfSpacingAssumed('register', { path: a.volume, meta: opened.store.meta, spacingAssumed: voxelSizeAssumed }, 'the EDS map is registered at the scale that size gives it');
    // --find-pixel-size: the pixel size the map matches best at (check-scale's search), and the pose found there to start from
    let found: ScaleSearchResult | undefined;
    if (a['find-pixel-size']) {
      const searching = a.json ? undefined : progressBar('check-scale');
      found = await searchMapScale(faceView(opened.store, a.face ?? 'top'), map, { range: a.pixelSizeRange, companion: a.companion, onProgress: searching, voxelSizeAssumed })
        .catch(async (err: unknown) => {
          searching?.done();
          await opened.close();
          throw cliSurfaceAdvice(cliVoxelSizeAdvice(err), a.face ?? 'top');
        });
      searching?.done();
      if (!found.distinct) {
        await opened.close();
        throw unprocessable(`--find-pixel-size found no pixel size to register at, and nothing was written: ${checkScaleSummary(found, a.pixelSizeRange)}`);
      }
      if (!a.json) console.log(`${checkScaleSummary(found, a.pixelSizeRange, { registering: true })}`);
    }
    const used = found ? { ...map, pixelSizeUm: found.pixelUm } : map;
    const start = found && { initialPose: { edsToSlab: found.edsToSlab, mi: found.mi, secondMi: found.chance }, surface: found.surface, extractedSlab: found.slab };
    const onProgress = a.json ? undefined : progressBar('register');
    const r = await registerEdsOnFace(opened.store, used, a.face ?? 'top', { landmarks, companion: a.companion, model: a.model, fields, onProgress, voxelSizeAssumed, ...start })
      .catch((err: unknown) => {
        onProgress?.done();
        throw cliSurfaceAdvice(cliVoxelSizeAdvice(err), a.face ?? 'top');
      })
      .finally(() => opened.close());
    onProgress?.done();
    const json = await writeOutputs(r, map, opened.store.meta, a, fields, found);
    if (a.json) console.log(JSON.stringify(json, null, 2));
    else {
      console.log(registerSummary(r, { map: a.map, volume: a.volume, face: a.face ?? 'top', out: a.out, transformFile: json.transformFile, voxelUm: opened.store.meta.spacingUm[2]!,
        fields: fields && `${fields.length} fields (${a.grid ? `grid ${a.grid[0]}x${a.grid[1]}` : 'TIMA field layout'})` }));
    }
    const [, ny, nx] = opened.store.meta.shape;
    const unverified = unverifiedRegistration(r, {
      mapPx: [map.width, map.height], mapPixelUm: used.pixelSizeUm, volumeUm: [nx * opened.store.meta.spacingUm[2]!, ny * opened.store.meta.spacingUm[1]!], face: a.face ?? 'top',
      inputs: { volume: a.volume, map: a.map, legend: a.legend, pixelUm: a['pixel-um'] },
    });
    if (unverified) process.stderr.write(`petromap register: ${unverified}\n`);
    // the map is imported for training at the pixel size it was registered at
    const pixelUm = found ? +found.pixelUm.toPrecision(4) : a['pixel-um'];
    process.stderr.write(`petromap register: ${unverified ? 'then, if it holds, ' : ''}${nextAfterRegister({ volume: a.volume, map: a.map, legend: a.legend, pixelUm, out: a.out })}\n`);
  } catch (err) {
    console.error(`petromap register: ${isPetromapError(err) || err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  }
}
