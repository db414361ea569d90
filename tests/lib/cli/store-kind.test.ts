/**
 * A folder with a zarr.json is a petromap store only when it carries petromap's attributes: an
 * OME-Zarr 0.5 written by another tool is described (and run imports it) as a volume file.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { info } from '../../../lib/cli/info';
import { isPetromapStore } from '../../../lib/cli/store-kind';
import { importVolume } from '../../../lib/volume/import-node';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'petromap-store-kind-'));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A 4 x 6 x 8 uint8 OME-Zarr 0.5 image, as another tool writes it (one uncompressed chunk). */
function foreignV3(root: string) {
  fs.mkdirSync(path.join(root, '0', 'c', '0', '0'), { recursive: true });
  const axes = ['z', 'y', 'x'].map((name) => ({ name, type: 'space', unit: 'micrometer' }));
  const ms = { axes, datasets: [{ path: '0', coordinateTransformations: [{ type: 'scale', scale: [4, 2, 2] }] }] };
  fs.writeFileSync(path.join(root, 'zarr.json'), JSON.stringify({ zarr_format: 3, node_type: 'group', attributes: { ome: { version: '0.5', multiscales: [ms] } } }));
  const arr = { zarr_format: 3, node_type: 'array', shape: [4, 6, 8], data_type: 'uint8', chunk_grid: { name: 'regular', configuration: { chunk_shape: [4, 6, 8] } },
    chunk_key_encoding: { name: 'default', configuration: { separator: '/' } }, fill_value: 0, codecs: [{ name: 'bytes' }] };
  fs.writeFileSync(path.join(root, '0', 'zarr.json'), JSON.stringify(arr));
  fs.writeFileSync(path.join(root, '0', 'c', '0', '0', '0'), Buffer.from(Array.from({ length: 192 }, (_, i) => i)));
}

describe('petromap store or a volume to import', () => {
  it('tells a foreign OME-Zarr 0.5 from a petromap store', async () => {
    const foreign = path.join(dir, 'napari.ome.zarr');
    foreignV3(foreign);
    expect(isPetromapStore(foreign)).toBe(false);
    const d = await info(foreign);
    expect(d).toMatchObject({ kind: 'file', format: 'ome-zarr', shape: [4, 6, 8], spacingUm: [4, 2, 2] });
    const store = path.join(dir, 'imported.ome.zarr');
    await importVolume(foreign, store);
    expect(isPetromapStore(store)).toBe(true);
    expect(await info(store)).toMatchObject({ kind: 'store', meta: { shape: [4, 6, 8], spacingUm: [4, 2, 2] } });
    expect(isPetromapStore(path.join(dir, 'missing'))).toBe(false);
  });
});
