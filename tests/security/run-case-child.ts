/**
 * Child process of the security harness: `node --import tsx run-case-child.ts <kind> <input> <outDir>`.
 * Runs one import the way the product does and prints one JSON line:
 * { ok, error, tag, untagged, peakRssMiB }. An error that is not a PetromapError counts as a crash
 * (untagged): hostile input must be refused on purpose, not by accident.
 */
import { mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { isPetromapError } from '../../lib/errors';

const [kind, input, outDir] = process.argv.slice(2) as [string, string, string];

async function run(): Promise<void> {
  await mkdir(outDir, { recursive: true });
  switch (kind) {
    case 'volume': {
      const { importVolume } = await import('../../lib/volume/import-node');
      const { limitsFromEnv } = await import('../../lib/limits');
      await importVolume(input, join(outDir, 'volume.ome.zarr'), { limits: limitsFromEnv() });
      return;
    }
    case 'eds':
    case 'legend': {
      // input: a folder holding map.png (or .tif) + legend.csv (+ optional pixel.json {pixelSizeUm})
      const { importEdsFolderForTest } = await import('./eds-input');
      await importEdsFolderForTest(input, join(outDir, 'map'));
      return;
    }
    case 'tima': {
      const { importTimaExport } = await import('../../lib/eds/import-node');
      const { saveMineralMap } = await import('../../lib/eds/store-node');
      const map = await importTimaExport(input);
      await saveMineralMap(join(outDir, 'map'), map);
      return;
    }
    case 'store': {
      // a petromap store read as prediction and the server read it (the store itself, then the brick
      // reader); opened by its folder name so that messages carry no machine path
      const { readStoreWhole } = await import('./store-input');
      process.chdir(dirname(input));
      await readStoreWhole(basename(input));
      return;
    }
    case 'zip': {
      const { importZipForTest } = await import('./zip-input');
      await importZipForTest(input, outDir);
      return;
    }
    default:
      throw new Error(`unknown case kind ${kind}`);
  }
}

const rss = () => Math.round(process.resourceUsage().maxRSS / 1024);
run().then(
  () => console.log(JSON.stringify({ ok: true, error: '', peakRssMiB: rss() })),
  (err: unknown) => {
    const msg = err instanceof Error ? err.message : String(err);
    console.log(JSON.stringify({ ok: false, error: msg.split('\n')[0], tag: isPetromapError(err) ? err._tag : undefined, untagged: !isPetromapError(err), peakRssMiB: rss() }));
  },
).finally(() => process.exit(0));
