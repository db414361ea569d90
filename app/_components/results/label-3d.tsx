'use client';
/**
 * 3D view of the predicted label volume (labels.nii, coarse) with NiiVue: volume rendering with
 * one colour per class; hidden classes get alpha 0.
 */
import { useEffect, useRef, useState } from 'react';
import type { ClassInfo } from './charts';

type Nv = import('@niivue/niivue').Niivue;

function labelColormap(classes: ClassInfo[], hidden: Set<number>) {
  const maxCode = Math.max(1, ...classes.map((c) => c.code));
  const R: number[] = [], G: number[] = [], B: number[] = [], A: number[] = [], I: number[] = [], labels: string[] = [];
  for (let i = 0; i <= maxCode; i++) {
    const c = classes.find((k) => k.code === i);
    R.push(c?.color[0] ?? 0);
    G.push(c?.color[1] ?? 0);
    B.push(c?.color[2] ?? 0);
    A.push(i === 0 || !c || hidden.has(i) ? 0 : 255);
    I.push(i);
    labels.push(c?.name ?? (i === 0 ? 'air' : `class ${i}`));
  }
  return { R, G, B, A, I, labels };
}

export function Label3D({ url, classes, hidden }: { url: string; classes: ClassInfo[]; hidden: Set<number> }) {
  const canvasRef = useRef<HTMLCanvasElement>(null);
  const nvRef = useRef<Nv | null>(null);
  const [status, setStatus] = useState<'loading' | 'ready' | string>('loading');

  useEffect(() => {
    let gone = false;
    (async () => {
      try {
        const { Niivue, SLICE_TYPE } = await import('@niivue/niivue');
        if (gone || !canvasRef.current) return;
        const nv = new Niivue({ backColor: [0.12, 0.13, 0.15, 1], show3Dcrosshair: false, isColorbar: false, loadingText: 'loading labels…' });
        await nv.attachToCanvas(canvasRef.current);
        await nv.loadVolumes([{ url, name: 'labels.nii' }]);
        if (gone) return;
        nv.setSliceType(SLICE_TYPE.RENDER);
        nv.setRenderAzimuthElevation(120, 20);
        nvRef.current = nv;
        setStatus('ready');
      } catch (err) {
        if (!gone) setStatus(`3D view unavailable: ${err instanceof Error ? err.message : String(err)}`);
      }
    })();
    return () => {
      gone = true;
      nvRef.current = null;
    };
  }, [url]);

  const hiddenKey = [...hidden].sort().join(',');
  useEffect(() => {
    const nv = nvRef.current;
    if (!nv || status !== 'ready' || !nv.volumes[0]) return;
    nv.volumes[0].setColormapLabel(labelColormap(classes, hidden));
    nv.updateGLVolume();
  }, [status, hiddenKey, classes]); // eslint-disable-line react-hooks/exhaustive-deps

  return (
    <div className="label3d" data-testid="label-3d" data-status={status === 'ready' || status === 'loading' ? status : 'error'}>
      <canvas ref={canvasRef} />
      {status !== 'ready' && <div className="loading">{status === 'loading' ? 'loading the 3D view…' : status}</div>}
      <div className="overlay-text">drag: rotate · wheel: zoom</div>
    </div>
  );
}
