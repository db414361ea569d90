/**
 * A box of an EDS map (`petromap import-eds … --crop x,y,width,height`, in map pixels: x right,
 * y down, from the top-left pixel 0,0): for a map far larger than the scanned area, which the
 * automatic search cannot cover. Everything that lies on the map's pixels is cut the same way
 * (labels, the measured-area mask, the companions such as the BSE image, a TIMA field layout: each
 * field cut to the box, fields outside it dropped); the pixel size is unchanged. The box is
 * recorded (map.json `crop`), so coordinates in the cropped map, which a later registration's
 * transform reads, are (u + x, v + y) in the map as exported.
 */
import { invalidInput } from '../errors';
import type { MapCrop, MineralMap } from './types';

export type CropBox = Pick<MapCrop, 'x' | 'y' | 'width' | 'height'>;

/** "x,y,width,height" as whole pixels (width and height ≥ 1), or a message naming --crop. */
export function parseCropBox(s: string): CropBox {
  const parts = s.split(',').map((p) => p.trim());
  const n = parts.map((p) => (p === '' ? NaN : Number(p)));
  if (n.length !== 4 || n.some((v) => !Number.isInteger(v) || v < 0) || n[2] === 0 || n[3] === 0) {
    throw invalidInput(`--crop takes the box as x,y,width,height in whole map pixels (x right and y down from the top-left pixel 0,0; width and height ≥ 1), e.g. --crop 200,150,400,300, not "${s.slice(0, 60)}".`);
  }
  return { x: n[0]!, y: n[1]!, width: n[2]!, height: n[3]! };
}

/** The map cut to `box`; refused in words when the box leaves the map or holds no classified pixel. */
export function cropMineralMap(map: MineralMap, box: CropBox): MineralMap {
  const { x, y, width: w, height: h } = box;
  const name = map.source ? `the map ${map.source}` : 'the map';
  const said = `--crop ${x},${y},${w},${h}`;
  if (x + w > map.width || y + h > map.height) {
    const over = [x + w > map.width ? `it ends at column ${x + w - 1}, the map's last is ${map.width - 1}` : '', y + h > map.height ? `it ends at row ${y + h - 1}, the map's last is ${map.height - 1}` : ''].filter(Boolean).join('; ');
    throw invalidInput(`${said} leaves ${name} (${map.width} × ${map.height} px): ${over}. Give a box inside it (x,y,width,height in map pixels).`);
  }
  const n = w * h;
  const labels = new Uint16Array(n);
  const measured = map.measured ? new Uint8Array(n) : undefined;
  const companions = map.companions.map((c) => ({ name: c.name, data: new Float32Array(n) }));
  for (let v = 0; v < h; v++) {
    const src = (v + y) * map.width + x;
    labels.set(map.labels.subarray(src, src + w), v * w);
    measured?.set(map.measured!.subarray(src, src + w), v * w);
    map.companions.forEach((c, k) => companions[k]!.data.set(c.data.subarray(src, src + w), v * w));
  }
  const known = new Set(map.legend.map((p) => p.id));
  let classified = 0;
  for (let i = 0; i < n; i++) if (labels[i] !== 0 && known.has(labels[i]!)) classified++;
  if (!classified) {
    throw invalidInput(`${said} holds no classified pixel of ${name} (${map.width} × ${map.height} px): every pixel in it is unclassified or not measured. ` +
      'Choose a box over the mapped rock (petromap import-eds --preview out.png shows the whole map).');
  }
  const out: MineralMap = {
    width: w,
    height: h,
    pixelSizeUm: map.pixelSizeUm,
    labels,
    legend: map.legend.map((p) => ({ ...p, color: [...p.color] as [number, number, number] })),
    companions,
    crop: { x: x + (map.crop?.x ?? 0), y: y + (map.crop?.y ?? 0), width: w, height: h, fromWidth: map.crop?.fromWidth ?? map.width, fromHeight: map.crop?.fromHeight ?? map.height },
  };
  if (map.source !== undefined) out.source = map.source;
  if (map.sampleName) out.sampleName = map.sampleName;
  if (measured) out.measured = measured;
  if (map.fields) {
    out.fields = [];
    for (const f of map.fields) {
      const u0 = Math.max(f.u0, x), v0 = Math.max(f.v0, y);
      const u1 = Math.min(f.u0 + f.width, x + w), v1 = Math.min(f.v0 + f.height, y + h);
      if (u1 > u0 && v1 > v0) out.fields.push({ ...(f.name !== undefined ? { name: f.name } : {}), u0: u0 - x, v0: v0 - y, width: u1 - u0, height: v1 - v0 });
    }
  }
  return out;
}
