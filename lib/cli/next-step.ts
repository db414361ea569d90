/**
 * The line each step-by-step command ends with (stderr; stdout stays its JSON or summary): the
 * next command, written out with the files this one wrote, so a new user can go on from
 * import / import-eds to register, train and predict without reading every --help first.
 */
import { basename } from 'node:path';
import { isStoredMineralMap } from './eds-input';
import { isPetromapStore } from './store-kind';

/** A path as a shell word (quoted when it holds anything but plain characters). */
export const shellWord = (p: string): string => (/^[\w./@%+=:,-]+$/.test(p) ? p : `'${p.replace(/'/g, `'\\''`)}'`);

/** `<name>.ome.zarr` beside the working folder: the store a volume file would be imported into. */
const storeNameFor = (file: string) => `${basename(file.replace(/[/\\]+$/, '')).replace(/\.(nii\.gz|ome\.tiff?|[^.]+)$/i, '') || 'volume'}.ome.zarr`;

export function nextAfterImport(store: string): string {
  return `next: register an EDS map of the sample's top face on it: petromap register --volume ${shellWord(store)} --map <map image + legend.csv | TIMA export folder | folder from import-eds> [--pixel-um <µm>] --out registration.json`;
}

/**
 * After `import-eds`: register it; or, when `register` was run on the map image already (its next
 * line names this import before train), train with that registration (before, only "register it"
 * was said, sending a user who had registered back to register).
 */
export function nextAfterImportEds(mapDir: string): string {
  const m = shellWord(mapDir);
  return `next: register it on the volume: petromap register --volume <store.ome.zarr> --map ${m} --out registration.json; `
    + `or, with a registration of this map made already: petromap train --volume <store.ome.zarr> --eds ${m} --registration <registration.json> --out model`;
}

/**
 * After `register`: the train line. Training reads a petromap store and a map folder from import-eds:
 * when register was given a volume file or a map image, the line first names the import that makes them.
 */
export function nextAfterRegister(a: { volume: string; map: string; legend?: string; pixelUm?: number; out: string }): string {
  const steps: string[] = [];
  let volume = a.volume, map = a.map;
  if (!isPetromapStore(a.volume)) {
    volume = storeNameFor(a.volume);
    steps.push(`petromap import ${shellWord(a.volume)} --out ${shellWord(volume)}`);
  }
  if (!isStoredMineralMap(a.map)) {
    map = `${basename(a.map.replace(/[/\\]+$/, '')).replace(/\.[^.]+$/, '')}-eds`;
    steps.push(`petromap import-eds ${shellWord(a.map)}${a.legend ? ` --legend ${shellWord(a.legend)}` : ''}${a.pixelUm !== undefined ? ` --pixel-um ${a.pixelUm}` : ''} --out ${shellWord(map)}`);
  }
  steps.push(`petromap train --volume ${shellWord(volume)} --eds ${shellWord(map)} --registration ${shellWord(a.out)} --out model`);
  return `next: ${steps.length > 1 ? 'train on it (training reads an imported volume and map): ' : 'train on it: '}${steps.join(' && ')}`;
}

export function nextAfterTrain(volume: string, model: string): string {
  return `next: the whole volume: petromap predict --volume ${shellWord(volume)} --model ${shellWord(model)} --out prediction [--export nrrd,tiff]`;
}
