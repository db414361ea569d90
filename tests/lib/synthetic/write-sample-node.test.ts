import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { readImageNode } from '@itk-wasm/image-io';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateSandstone, type SyntheticSample } from '../../../lib/synthetic';
import { writeSyntheticSample } from '../../../lib/synthetic/write-sample-node';

let dir: string;
let s: SyntheticSample;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'petromap-synthetic-'));
  s = generateSandstone({ shape: [20, 40, 48], grainDiameterVox: 10, voxelUm: 1.5, eds: { mirrored: true } });
  await writeSyntheticSample(dir, s);
});
afterAll(() => rm(dir, { recursive: true, force: true }));

/** Splits an NRRD file into its header fields and raw payload. */
async function readNrrd(path: string) {
  const buf = await readFile(path);
  const end = buf.indexOf('\n\n');
  const fields = new Map<string, string>();
  for (const line of buf.subarray(0, end).toString('latin1').split('\n').slice(1)) {
    const m = /^([^:#]+):\s*(.*)$/.exec(line);
    if (m) fields.set(m[1].trim(), m[2].trim());
  }
  return { magic: buf.subarray(0, 8).toString('latin1'), fields, body: buf.subarray(end + 2) };
}

describe('writeSyntheticSample', () => {
  it('writes exactly the documented files, no temporaries left', async () => {
    expect((await readdir(dir)).sort()).toEqual(['bse.png', 'eds-legend.csv', 'eds-map.png', 'truth-labels.nrrd', 'truth.json', 'volume.nrrd']);
  });

  it('writes a raw uint16 NRRD with sizes, spacing and the same voxels', async () => {
    const { magic, fields, body } = await readNrrd(join(dir, 'volume.nrrd'));
    expect(magic).toBe('NRRD0004');
    expect(fields.get('type')).toBe('uint16');
    expect(fields.get('sizes')).toBe('48 40 20');
    expect(fields.get('encoding')).toBe('raw');
    expect(fields.get('endian')).toBe('little');
    expect(fields.get('space directions')).toBe('(1.5,0,0) (0,1.5,0) (0,0,1.5)');
    const data = new Uint16Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
    expect(Buffer.from(data.buffer).equals(Buffer.from(s.volume.data.buffer))).toBe(true);
  });

  it('is read by ITK with the same size, spacing and voxels', async () => {
    const img = await readImageNode(join(dir, 'volume.nrrd'));
    expect(img.size).toEqual([48, 40, 20]);
    expect(img.spacing).toEqual([1.5, 1.5, 1.5]);
    expect(img.imageType.componentType).toBe('uint16');
    expect(Buffer.from((img.data as Uint16Array).buffer).equals(Buffer.from(s.volume.data.buffer))).toBe(true);
  });

  it('writes the truth labels as uint8 NRRD', async () => {
    const { fields, body } = await readNrrd(join(dir, 'truth-labels.nrrd'));
    expect(fields.get('type')).toBe('uint8');
    expect(Buffer.from(body).equals(Buffer.from(s.truthLabels))).toBe(true);
  });

  it('writes an RGB map whose colours are the legend colours (black = unclassified)', async () => {
    const png = decode(await readFile(join(dir, 'eds-map.png')));
    expect([png.width, png.height, png.channels]).toEqual([s.eds.width, s.eds.height, 3]);
    const csv = (await readFile(join(dir, 'eds-legend.csv'), 'utf8')).trim().split('\n');
    expect(csv[0]).toBe('name,r,g,b');
    const byColour = new Map(csv.slice(1).map((l) => [l.split(',').slice(1).join(), l.split(',')[0]]));
    const names = new Map(s.eds.legend.map((p) => [p.id, p.name]));
    for (let i = 0; i < s.eds.labels.length; i += 7) {
      const rgb = [png.data[i * 3], png.data[i * 3 + 1], png.data[i * 3 + 2]].join();
      expect(s.eds.labels[i] === 0 ? rgb : byColour.get(rgb)).toBe(s.eds.labels[i] === 0 ? '0,0,0' : names.get(s.eds.labels[i]));
    }
  });

  it('writes a 16-bit BSE image and a truth.json that round-trips', async () => {
    const png = decode(await readFile(join(dir, 'bse.png')));
    expect([png.width, png.height, png.channels, png.depth]).toEqual([s.eds.width, s.eds.height, 1, 16]);
    const truth = JSON.parse(await readFile(join(dir, 'truth.json'), 'utf8'));
    expect(truth.edsToVoxel).toEqual(s.truth.edsToVoxel);
    expect(truth.surface).toEqual(s.truth.surface);
    expect(truth.mineralToClass).toEqual(s.truth.mineralToClass);
    expect(truth.params).toEqual(s.truth.params);
    expect(truth.edsPixelUm).toBe(s.eds.pixelSizeUm);
  });
});
