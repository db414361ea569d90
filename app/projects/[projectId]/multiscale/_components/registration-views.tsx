'use client';
/**
 * Quality of an interior scan's registration: for each of the three orthogonal slices through its
 * centre, the large scan, the registered interior (averaged down to the large scan's voxels) and a
 * checkerboard of both (squares of 4 voxels; each image stretched between its 1st and 99th percentile).
 */
import { useEffect, useRef } from 'react';

export interface View { axis: string; width: number; height: number; fixed: (number | null)[]; moving: (number | null)[] }

function stretch(v: (number | null)[]) {
  const s = v.filter((x): x is number => x != null).sort((a, b) => a - b);
  const lo = s[Math.floor(0.01 * (s.length - 1))] ?? 0, hi = s[Math.floor(0.99 * (s.length - 1))] ?? 1;
  return (x: number | null) => (x == null ? null : Math.max(0, Math.min(255, ((x - lo) / (hi - lo || 1)) * 255)));
}

function Canvas({ view, mode }: { view: View; mode: 'fixed' | 'moving' | 'checker' }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    const c = ref.current?.getContext('2d');
    if (!c) return;
    const { width: w, height: h } = view;
    const fs = stretch(view.fixed), ms = stretch(view.moving);
    const img = c.createImageData(w, h);
    for (let v = 0; v < h; v++) for (let u = 0; u < w; u++) {
      const i = v * w + u;
      const useMoving = mode === 'moving' || (mode === 'checker' && ((u >> 2) + (v >> 2)) % 2 === 0 && view.moving[i] != null);
      const g = useMoving ? ms(view.moving[i]!) : fs(view.fixed[i]!);
      const o = 4 * i;
      if (g == null) { img.data[o] = 40; img.data[o + 1] = 20; img.data[o + 2] = 20; } else if (useMoving && mode === 'checker') { img.data[o] = g; img.data[o + 1] = g * 0.85; img.data[o + 2] = g * 0.6; } else { img.data[o] = g; img.data[o + 1] = g; img.data[o + 2] = g; }
      img.data[o + 3] = 255;
    }
    c.putImageData(img, 0, 0);
  }, [view, mode]);
  const scale = Math.max(1, Math.floor(160 / Math.max(view.width, view.height)));
  return <canvas ref={ref} width={view.width} height={view.height} style={{ width: view.width * scale, height: view.height * scale, imageRendering: 'pixelated' }} />;
}

export function RegistrationViews({ views }: { views: View[] }) {
  return (
    <div className="ms-views" data-testid="ms-views">
      {views.map((v) => (
        <figure key={v.axis} style={{ display: 'inline-block', margin: 6 }}>
          <div style={{ display: 'flex', gap: 4 }}>
            <Canvas view={v} mode="fixed" />
            <Canvas view={v} mode="moving" />
            <Canvas view={v} mode="checker" />
          </div>
          <figcaption className="info">slice across {v.axis}: large scan · interior · checkerboard</figcaption>
        </figure>
      ))}
    </div>
  );
}
