/**
 * Surface mirroring: above the polished surface there is air (or epoxy), so filters centred on
 * voxels just below the surface see a dark half-space that interior voxels never see; a classifier
 * trained on surface labels would then learn "near the air" instead of the mineral. The wrapper
 * below replaces every voxel above the mirror plane by its mirror image across the plane,
 *   v(z, y, x) = v(2 * zm(x, y) - z, y, x)   (linear along z),
 * so that features near the surface mean what they mean in the interior.
 *
 * The fitted plane z = a*x + b*y + c passes through the centres of the first rock voxel layer,
 * which is partial volume (50–100 % rock). By default the mirror plane sits half a voxel below it
 * (offsetVox 0.5), so that partial layer is replaced too and mirrored data is all rock.
 */
import { PetromapError } from '../errors';
import type { ReadBlockOptions, VolumeStore } from '../volume/store';
import type { AnyVoxelArray, Box3, Shape3 } from '../volume/types';
import { correctEdgeInPlace, correctedDepth, type EdgeProfile } from './surface-edge';

/** The plane z = a*x + b*y + c in voxel indices (a SurfaceFit or the synthetic truth's Plane). */
export interface SurfacePlane {
  a: number;
  b: number;
  c: number;
  /** edge-spread correction of the first rock layers (lib/classify/surface-edge.ts), applied before mirroring */
  edge?: EdgeProfile;
}

export interface MirrorOptions {
  /** mirror plane = surface plane + offsetVox along z (default 0.5: just below the partial layer) */
  offsetVox?: number;
}

/** Symmetric reflection of an index into [0, n) (the halo convention of VolumeStore). */
const reflect = (i: number, n: number): number => {
  while (i < 0 || i >= n) i = i < 0 ? -i - 1 : 2 * n - i - 1;
  return i;
};

const halo3 = (h: ReadBlockOptions['halo']): Shape3 => (h === undefined ? [0, 0, 0] : typeof h === 'number' ? [h, h, h] : h);

/** z of the mirror plane at (y, x). */
export function mirrorPlaneZ(surface: SurfacePlane, y: number, x: number, offsetVox = 0.5): number {
  return surface.a * x + surface.b * y + surface.c + offsetVox;
}

/**
 * Mirror a float32 block in place. `block` covers z in [z0, z0 + sz), rows y0.., columns x0..;
 * `extra` is the same columns read over z in [z0, z0 + sz + extraRows) (the source of mirror rows).
 */
function mirrorInto(out: Float32Array, outShape: Shape3, src: Float32Array, srcRows: number, z0: number, zm: Float64Array): void {
  const [sz, sy, sx] = outShape;
  const plane = sy * sx;
  for (let y = 0; y < sy; y++) {
    for (let x = 0; x < sx; x++) {
      const col = y * sx + x;
      const zmc = zm[col];
      for (let z = 0; z < sz; z++) {
        const gz = z0 + z;
        if (gz >= zmc) break;
        let zs = 2 * zmc - gz - z0; // source row in src, fractional
        if (zs > srcRows - 1) zs = srcRows - 1;
        if (zs < 0) zs = 0;
        const i0 = Math.floor(zs), f = zs - i0;
        const i1 = Math.min(i0 + 1, srcRows - 1);
        out[z * plane + col] = src[i0 * plane + col] * (1 - f) + src[i1 * plane + col] * f;
      }
    }
  }
}

/**
 * A read-only VolumeStore whose level-0 reads return the volume mirrored above the surface.
 * Reads the extra rows below the block that the mirror needs. Other levels are not mirrored.
 */
export function mirrorAboveSurface(store: VolumeStore, surface: SurfacePlane, opts: MirrorOptions = {}): VolumeStore {
  const offsetVox = opts.offsetVox ?? 0.5;
  const [nz, ny, nx] = store.meta.shape;

  /** Mirror-plane z per column of a level-0 read of box + halo h, and its highest value. */
  function planeOfRead(box: Box3, h: Shape3) {
    const z0 = box.start[0] - h[0], y0 = box.start[1] - h[1], x0 = box.start[2] - h[2];
    const outShape: Shape3 = [box.shape[0] + 2 * h[0], box.shape[1] + 2 * h[1], box.shape[2] + 2 * h[2]];
    // mirror-plane z per column; halo columns outside the volume hold reflected data, so they
    // use the plane of the column they were reflected from
    const zm = new Float64Array(outShape[1] * outShape[2]);
    let zmMax = -Infinity;
    for (let y = 0; y < outShape[1]; y++) for (let x = 0; x < outShape[2]; x++) {
      const v = mirrorPlaneZ(surface, reflect(y0 + y, ny), reflect(x0 + x, nx), offsetVox);
      zm[y * outShape[2] + x] = v;
      if (v > zmMax) zmMax = v;
    }
    // below the mirror and below the edge correction readF32 returns the stored values unchanged
    const asStored = z0 >= zmMax && !(surface.edge && z0 < zmMax - offsetVox + correctedDepth(surface.edge));
    return { z0, outShape, zm, zmMax, asStored };
  }

  async function readF32(box: Box3, ro: ReadBlockOptions = {}): Promise<Float32Array> {
    if ((ro.level ?? 0) !== 0) return store.readBlockF32(box, ro);
    const h = halo3(ro.halo);
    const { z0, outShape, zm, zmMax } = planeOfRead(box, h);
    const edge = surface.edge;
    if (z0 >= zmMax) {
      const block = await store.readBlockF32(box, ro);
      if (edge && z0 < zmMax - offsetVox + correctedDepth(edge)) correctEdgeInPlace(block, outShape, z0, planeZ(zm, -offsetVox), edge);
      return block;
    }
    // rows needed: up to 2*zm - z0 (+1 for interpolation), below the block's own rows
    const needEnd = Math.ceil(2 * zmMax - 2 * z0) + 2; // exclusive, relative to z0 (source z = 2 zm - z0 at row z0)
    const ownEnd = outShape[0];
    const extraRows = Math.max(0, Math.min(needEnd - ownEnd, nz - (box.start[0] + box.shape[0])));
    const readBox: Box3 = { start: box.start, shape: [box.shape[0] + extraRows, box.shape[1], box.shape[2]] };
    const big = await store.readBlockF32(readBox, { ...ro, halo: h });
    const srcRows = outShape[0] + extraRows;
    if (edge) correctEdgeInPlace(big, [srcRows, outShape[1], outShape[2]], z0, planeZ(zm, -offsetVox), edge);
    const plane = outShape[1] * outShape[2];
    const out = extraRows === 0 ? big : big.slice(0, outShape[0] * plane);
    // mirror using an untouched copy of the source rows
    const src = extraRows === 0 ? big.slice() : big;
    mirrorInto(out, outShape, src, srcRows, z0, zm);
    return out;
  }

  return {
    path: store.path,
    meta: store.meta,
    levels: store.levels,
    levelShape: (l: number) => store.levelShape(l),
    readBlockF32: readF32,
    async readBlock(box: Box3, ro?: ReadBlockOptions): Promise<AnyVoxelArray> {
      // nothing to mirror or correct (other levels, or a box below both): the stored values, without
      // a round trip through float32 (the same values: integers convert back exactly)
      if ((ro?.level ?? 0) !== 0 || planeOfRead(box, halo3(ro?.halo)).asStored) return store.readBlock(box, ro);
      const f = await readF32(box, ro);
      const dt = store.meta.dtype;
      if (dt === 'float32') return f;
      const out = dt === 'uint8' ? new Uint8Array(f.length) : new Uint16Array(f.length);
      for (let i = 0; i < f.length; i++) out[i] = Math.round(f[i]);
      return out;
    },
    async writeBlock(): Promise<void> {
      throw new PetromapError('Unsupported', `The surface-mirrored view of ${store.path} is read-only; write to the original volume instead.`);
    },
  };
}

/** Surface-plane z per column from mirror-plane z (shifted by `delta`). */
function planeZ(zm: Float64Array, delta: number): Float64Array {
  return zm.map((v) => v + delta);
}

/** True where voxel (z, y, x) lies above the physical air/rock edge (half a voxel above the plane). */
export function isAboveSurface(surface: SurfacePlane, z: number, y: number, x: number): boolean {
  return z < surface.a * x + surface.b * y + surface.c - 0.5;
}
