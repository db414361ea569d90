'use client';
/**
 * The Correlate step: find the polished surface in the XRM volume, then register the EDS map
 * onto the surface slab — by clicking landmark pairs (fitted as you click), automatically, or
 * automatically starting from the landmarks — check it in an overlay, accept it, and map the
 * EDS minerals to training classes.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { FaceSelector, NoBottomMap, type Face } from './face-selector';
import { useCallback, useEffect, useReducer, useRef, useState } from 'react';
import { useTRPC } from '@/app/_trpc/client';
import { formatUm } from '../format';
import { ClassMap } from './class-map';
import { acceptOk } from './accept-check';
import { ImageStage, type StageMarker } from './image-stage';
import {
  EMPTY_LANDMARKS, completePairs, landmarkReducer, pairColor, pairsForServer, pairsFromServer, pairsKey, residualRows, rms, type Pair, type Pt,
} from './landmarks';
import { OVERLAY_LABEL, OVERLAY_MODES, fmt, formatEta, mineralAtColour, nextOverlayMode, registrationVersion, type OverlayMode } from './overlay';
import { PixelSizeSearch } from './pixel-size-search';
import { confidenceOfState, StatusLine } from './status-line';
import { jobEnded, useRegisterJob, type JobProgress } from './use-register-job';

type Model = 'similarity' | 'affine';
interface Fit {
  key: string;
  model: Model;
  residuals: number[];
  rms: number;
  mirrored: boolean;
}

const isTyping = (t: EventTarget | null) => t instanceof HTMLElement && /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName) && (t as HTMLInputElement).type !== 'range';

/**
 * `face`: the polished face whose EDS map is registered (issue 15 §1: a sample mapped on its top
 * and its bottom face); each face is found, registered, shown and accepted on its own.
 */
export function CorrelateStep({ projectId, face = 'top' }: { projectId: string; face?: Face }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const stateQ = useQuery(trpc.correlate.state.queryOptions({ projectId, face }));
  const state = stateQ.data;
  const refresh = useCallback(() => qc.invalidateQueries({ queryKey: trpc.correlate.state.queryKey({ projectId }) }), [qc, trpc, projectId]);

  const [lm, dispatch] = useReducer(landmarkReducer, EMPTY_LANDMARKS);
  const [model, setModel] = useState<Model>('similarity');
  const [fit, setFit] = useState<Fit | null>(null);
  const [fitError, setFitError] = useState<string | null>(null);
  const [view, setView] = useState<'side' | 'overlay'>('side');
  const [mode, setMode] = useState<OverlayMode>('blend');
  const [alpha, setAlpha] = useState(0.5);
  const [swipe, setSwipe] = useState(0.5);
  const [tile, setTile] = useState(16);
  const [jobId, setJobId] = useState<string | null>(null);
  const [jobResult, setJobResult] = useState<JobProgress | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [hoverEds, setHoverEds] = useState<{ u: number; v: number; rgb: [number, number, number]; alpha: number } | null>(null);
  const [hoverSlab, setHoverSlab] = useState<{ u: number; v: number; rgb: [number, number, number] } | null>(null);
  const restored = useRef(false);
  const hasReg = useRef(false);
  hasReg.current = !!state?.registration;
  const autoPrepared = useRef(false);

  const prepare = useMutation(trpc.correlate.prepare.mutationOptions({ onSuccess: () => refresh() }));
  const fitM = useMutation(trpc.correlate.fitLandmarks.mutationOptions());
  const auto = useMutation(trpc.correlate.autoRegister.mutationOptions());
  const accept = useMutation(trpc.correlate.accept.mutationOptions({ onSuccess: () => { setError(null); refresh(); }, onError: (e) => setError(e.message) }));
  const classMapM = useMutation(trpc.correlate.setClassMap.mutationOptions({ onSuccess: () => refresh(), onError: (e) => setError(e.message) }));
  // a mineral the class list lacks becomes a class of its own (same class list as Annotate's), then the mineral maps to it
  const newClassM = useMutation(trpc.annotate.addClass.mutationOptions({ onError: (e) => setError(e.message) }));
  const cancel = useMutation(trpc.jobs.cancel.mutationOptions());

  const job = useRegisterJob(jobId, (p) => {
    setJobId(null);
    // the result is judged on the overlay: side by side shows the two images as they were
    if (p.state === 'done') setView('overlay');
    // said once the page holds the registration it is about (its confidence decides the words), not the one before
    void refresh().finally(() => setJobResult(p));
  });
  const running = !!jobId && !jobEnded(job?.state);

  // The surface-slab job: the server reports it as pending in the state; its progress comes live.
  const slabJobId = state?.slabStatus === 'pending' ? (state.slabJob?.id ?? null) : state?.slabStatus === 'ready' ? null : (prepare.data?.jobId ?? null);
  const slabJob = useRegisterJob(slabJobId, () => void refresh());

  // Find the surface on the first visit when both inputs are there (a job; the page shows its progress).
  useEffect(() => {
    if (!state || autoPrepared.current || state.slabStatus !== 'none' || !state.volume || !state.eds) return;
    autoPrepared.current = true;
    prepare.mutate({ projectId, face });
  }, [state, projectId]); // eslint-disable-line react-hooks/exhaustive-deps

  // Landmarks of the stored registration come back as pairs (without refitting them).
  useEffect(() => {
    if (!state || restored.current) return;
    restored.current = true;
    const reg = state.registration;
    if (!reg?.landmarks?.length) return;
    const pairs = pairsFromServer(reg.landmarks);
    dispatch({ type: 'load', pairs });
    const res = reg.quality.landmarkResiduals;
    const ok = !!res && res.length === pairs.length;
    setFit({ key: pairsKey(pairs), model, residuals: ok ? res : [], rms: ok ? rms(res) : NaN, mirrored: false });
    // runs once, when the stored registration first arrives; a later model switch must not reload it
  }, [state]); // eslint-disable-line react-hooks/exhaustive-deps

  // Fit as you click: ≥3 complete pairs whose positions changed → fitLandmarks (debounced).
  const key = pairsKey(lm.pairs);
  const nComplete = completePairs(lm.pairs).length;
  useEffect(() => {
    if (!restored.current) return;
    if (nComplete < 3) {
      setFit(null);
      setFitError(null);
      return;
    }
    if (fit?.key === key && fit.model === model) return;
    const t = setTimeout(() => {
      fitM.mutate(
        { projectId, landmarks: pairsForServer(lm.pairs), model, face },
        {
          onSuccess: (r) => {
            setFit({ key, model, residuals: r.residuals, rms: r.rms, mirrored: r.mirrored });
            setFitError(null);
            // a placement by hand supersedes an earlier Auto-register refusal
            setError(null);
            void refresh();
          },
          onError: (e) => setFitError(e.message),
        },
      );
    }, 250);
    return () => clearTimeout(t);
  }, [key, model]); // eslint-disable-line react-hooks/exhaustive-deps

  // Keyboard: Ctrl+Z undo, 'o' cycles the overlay mode.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (isTyping(e.target)) return;
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'z') {
        e.preventDefault();
        dispatch({ type: 'undo' });
      } else if (!e.ctrlKey && !e.metaKey && !e.altKey && e.key === 'o' && hasReg.current) {
        setView('overlay');
        setMode((m) => (view === 'overlay' ? nextOverlayMode(m) : m));
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [view]);

  if (stateQ.error) return <div className="error">Could not load the Correlate step: {stateQ.error.message}</div>;
  if (!state) return <p className="muted">Loading…</p>;

  if (!state.volume || !state.eds) {
    if (face === 'bottom' && state.volume) return <NoBottomMap projectId={projectId} faces={state.faces} />;
    const missing = [!state.volume && 'an XRM volume', !state.eds && 'an EDS mineral map'].filter(Boolean).join(' and ');
    return (
      <div className="card" data-testid="correlate-missing">
        <h2>Correlate</h2>
        <p>This project needs {missing} before the EDS map can be registered to the volume.</p>
        <p><Link href={`/projects/${projectId}`}>Go to the Data step</Link> to upload it.</p>
      </div>
    );
  }

  const { eds, slab, registration: reg } = state;
  const slabPending = !slab && (state.slabStatus === 'pending' || prepare.isPending || (!!slabJobId && !jobEnded(slabJob?.state)));
  const slabFailed = !slab && !slabPending && state.slabStatus === 'failed' ? state.slabJob : null;
  const voxelUm = state.volume.spacingUm[2];
  const slabVersion = slab ? registrationVersion([slab.width, slab.height, slab.surface.a, slab.surface.b, slab.surface.c]) : '';
  const faceQ = face === 'bottom' ? '&face=bottom' : '';
  const slabUrl = slab ? `/api/projects/${encodeURIComponent(projectId)}/slab.png?v=${slabVersion}${faceQ}` : null;
  const regVersion = registrationVersion(reg?.edsToSlab, `${slabVersion}${reg?.createdAt ? String(reg.createdAt) : ''}`);
  const overlayUrl = reg && slab
    ? `/api/projects/${encodeURIComponent(projectId)}/eds-on-slab.png?mode=${mode === 'outlines' ? 'outlines' : 'labels'}&v=${regVersion}${faceQ}`
    : null;
  const rows = fit && fit.key === key ? residualRows(lm.pairs, fit.residuals, voxelUm) : [];
  const highByPair = new Map(rows.map((r) => [r.n - 1, r.high]));

  const markers = (side: 'eds' | 'slab'): StageMarker[] =>
    lm.pairs.flatMap((p: Pair, i) => {
      const pt = p[side];
      if (!pt) return [];
      return [{ index: i, pt, color: pairColor(i), pending: !(p.eds && p.slab), high: highByPair.get(i) }];
    });
  const onMove = (side: 'eds' | 'slab') => (index: number, pt: Pt) => dispatch({ type: 'move', side, index, pt });
  const pending = lm.pairs.length > 0 && !(lm.pairs[lm.pairs.length - 1]!.eds && lm.pairs[lm.pairs.length - 1]!.slab);
  const hint = !slab
    ? 'Find the surface first.'
    : pending
      ? `Now click the same point on the ${lm.pairs[lm.pairs.length - 1]!.eds ? 'surface slab' : 'EDS map'} (pair ${lm.pairs.length}).`
      : nComplete < 3
        ? `Click a recognisable grain corner on the EDS map, then the same point on the slab (${3 - nComplete} more pair${3 - nComplete === 1 ? '' : 's'} for a fit).`
        : 'Pairs are fitted as you click. Add more pairs, drag markers to correct them, or run Auto-register.';

  const startAuto = () => {
    setError(null);
    setJobResult(null);
    auto.mutate(
      { projectId, landmarks: nComplete >= 3 ? pairsForServer(lm.pairs) : undefined, model, face },
      { onSuccess: (r) => setJobId(r.jobId), onError: (e) => setError(e.message) },
    );
  };

  const slabPx = slab ? { width: slab.width, height: slab.height, pixelSizeUm: voxelUm } : null;
  // a map far wider than the scanned surface (a whole TIMA mount on a small core): said before Auto-register is tried,
  // measured on the slab, or on the volume's x and y while the surface is not found
  // a registration nothing confirms (lib/registration/confidence.ts), not yet confirmed on the overlay: Accept becomes the confirmation
  const doubtful = !!reg && !reg.accepted && !reg.overlayChecked && confidenceOfState(reg)?.verdict === 'doubtful';
  const wide = mapMuchWider(eds, slab ?? { width: state.volume.shape[2]!, height: state.volume.shape[1]! }, voxelUm);

  return (
    <div className="correlate" data-testid="correlate">
      <FaceSelector projectId={projectId} face={face} faces={state.faces} />
      <div className="card corr-top">
        <StatusLine state={state} voxelUm={voxelUm} />
        {!slab && slabPending && (
          <SlabProgress job={slabJob ?? state.slabJob} onCancel={(id) => cancel.mutate({ id })} />
        )}
        {!slab && !slabPending && (
          <div className="row" style={{ marginTop: '0.5rem', alignItems: 'center' }}>
            <button className="primary" onClick={() => prepare.mutate({ projectId, face })} disabled={prepare.isPending} data-testid="find-surface">
              {slabFailed ? 'Find surface again' : 'Find surface'}
            </button>
            <span className="muted small">Detects the polished {face} surface in the volume and extracts the slab the EDS map is registered to.</span>
          </div>
        )}
        {slabFailed && (
          <div className="error" data-testid="slab-error">
            {slabFailed.state === 'failed' ? `Finding the surface failed: ${slabFailed.error ?? 'unknown error'}` : `Finding the surface was ${slabFailed.state}.`}
          </div>
        )}
        {prepare.error && <div className="error" data-testid="prepare-error">{prepare.error.message}</div>}
      </div>

      <div className="corr-toolbar" data-testid="corr-toolbar">
        <div className="seg" role="group" aria-label="View">
          <button className={view === 'side' ? 'on' : ''} onClick={() => setView('side')} data-testid="view-side">Side by side</button>
          <button className={view === 'overlay' ? 'on' : ''} onClick={() => setView('overlay')} disabled={!reg} data-testid="view-overlay"
            title={reg ? 'EDS map warped onto the slab (key o cycles the modes)' : 'Register first'}>Overlay</button>
        </div>
        <button onClick={() => dispatch({ type: 'undo' })} disabled={!lm.history.length} data-testid="lm-undo" title="Undo the last click or drag (Ctrl+Z)">Undo</button>
        <button onClick={() => dispatch({ type: 'clear' })} disabled={!lm.pairs.length} data-testid="lm-clear">Clear pairs</button>
        <label className="inline">
          Model
          <select value={model} onChange={(e) => setModel(e.target.value as Model)} data-testid="model-select"
            title="Landmark pairs are fitted with this model. Similarity: rotation, shift and the known pixel-size ratio (mirror allowed); affine: also shear and free scale. Auto-register with similarity / auto chooses the model itself (an affine only where the map needs it: see Transform model below); with affine it always fits an affine.">
            <option value="similarity">similarity / auto</option>
            <option value="affine">affine</option>
          </select>
        </label>
        <button className="primary" onClick={startAuto} disabled={!slab || running || auto.isPending} data-testid="auto-register"
          title={nComplete >= 3 ? 'Refine starting from the landmark fit' : 'Search the pose automatically'}>
          Auto-register{nComplete >= 3 ? ' from pairs' : ''}
        </button>
        {running && job && (
          <span className="job-progress" data-testid="auto-progress">
            <span className="progress"><span style={{ width: `${Math.round(job.progress * 100)}%` }} /></span>
            <span className="num">{Math.round(job.progress * 100)} %</span>
            <span className="muted">ETA {formatEta(job.etaSeconds)}</span>
            <span className="muted msg">{job.message ?? (job.state === 'queued' ? 'waiting for another job' : '')}</span>
            <button onClick={() => cancel.mutate({ id: job.id })} data-testid="auto-cancel">Cancel</button>
          </span>
        )}
        {running && !job && <span className="muted" data-testid="auto-progress">starting…</span>}
        {!running && jobResult && (
          <span className={`small ${jobResult.state === 'done' ? (doubtful ? 'warn-text' : 'ok-text') : 'bad'}`} data-testid="auto-result">
            {jobResult.state === 'done' ? (reg?.accepted ? 'Auto-register finished.' : doubtful ? 'Auto-register finished, but nothing confirms the result: see below.' : 'Auto-register finished: check the fit on the overlay (blend, swipe, checkerboard, outlines), then Accept registration.') : jobResult.state === 'cancelled' ? 'Auto-register cancelled.' : `Auto-register failed: ${jobResult.error ?? jobResult.state}`}
          </span>
        )}
        <span style={{ flex: 1 }} />
        {doubtful ? (
          <button className="primary" onClick={() => accept.mutate({ projectId, face, checkedOverlay: true, createdAt: reg.createdAt })} disabled={accept.isPending || running} data-testid="accept-checked"
            title="Nothing confirms this registration: use it only if the grains of the map line up with the slab on the overlay">
            I checked the overlay — use this registration
          </button>
        ) : (
          <button className="primary" onClick={() => { if (acceptOk(reg, fit, voxelUm)) accept.mutate({ projectId, face, createdAt: reg?.createdAt }); }} disabled={!reg || reg.accepted || accept.isPending || running} data-testid="accept">
            {reg?.accepted ? 'Accepted' : 'Accept registration'}
          </button>
        )}
      </div>
      {error && <div className="error" data-testid="correlate-error">{error}</div>}
      {doubtful && !running && (
        <p className="notice small warn-text" data-testid="registration-doubt">
          Nothing confirms this registration: {confidenceOfState(reg)!.reason} A wrong pixel size of the map or voxel size of the scan, a map of the other face or of another sample, or
          a map covering too little of the scan registers like this, far off. Check the overlay (blend, swipe, outlines): if the grains line up, click
          {' '}<strong>I checked the overlay — use this registration</strong>; if not, click <strong>Find the EDS pixel size</strong> below, check the map&apos;s pixel size and the volume&apos;s voxel size on
          the <Link href={`/projects/${projectId}`}>Data step</Link>, or place the map with 3 landmark pairs and Auto-register from pairs. Train waits for one of these.
        </p>
      )}
      {slab && (
        <PixelSizeSearch projectId={projectId} face={face} search={state.pixelSizeSearch} registration={reg} doubtful={doubtful} busy={running || auto.isPending}
          onRegisterJob={(id) => { setError(null); setJobResult(null); setJobId(id); }} onEnded={() => void refresh()} />
      )}
      {wide && !reg && !error && (
        <p className="notice small" data-testid="map-wider-note">
          The EDS map is {formatUm(wide.mapUm)} wide, {fmt(wide.ratio, 0)} times as wide as the scanned surface ({formatUm(wide.slabUm)}). If the scan shows only part of the mapped
          sample, place the map with 3 landmark pairs (Auto-register may refuse to search a map this much larger); if both should show the same area, check the
          volume&apos;s voxel size and the map&apos;s pixel size on the <Link href={`/projects/${projectId}`}>Data step</Link>.
        </p>
      )}
      {reg?.accepted && (
        <p className="notice small" data-testid="accepted-next">
          Registration of the {face} face accepted: its minerals are now training labels for the voxels just below the surface. Next:{' '}
          <Link href={`/projects/${projectId}/train`}><strong>Train →</strong></Link> choose features and train the classifier.
        </p>
      )}

      <div className="corr-grid">
        <div className="panel">
          <div className="panel-head">
            <span className="title">EDS map</span>
            <span>{eds.name}</span>
            <span>{formatUm(eds.width * eds.pixelSizeUm)} × {formatUm(eds.height * eds.pixelSizeUm)}</span>
            <span style={{ flex: 1 }} />
            <span className="readout" data-testid="eds-readout">
              {hoverEds ? `u ${hoverEds.u}, v ${hoverEds.v} · ${hoverEds.alpha === 0 ? 'not measured' : (mineralAtColour(eds.legend, hoverEds.rgb) ?? '?')}` : ''}
            </span>
          </div>
          <ImageStage
            url={`/api/datasets/${encodeURIComponent(eds.id)}/eds.png`} width={eds.width} height={eds.height} pixelSizeUm={eds.pixelSizeUm}
            markers={markers('eds')} side="eds" testId="corr-eds" className="corr-canvas" onHover={setHoverEds}
            onPick={slab ? (pt) => dispatch({ type: 'click', side: 'eds', pt }) : undefined}
            onMarkerDragStart={() => dispatch({ type: 'dragStart' })} onMarkerMove={onMove('eds')}
          />
        </div>
        <div className="panel">
          <div className="panel-head">
            <span className="title">{view === 'overlay' ? 'Overlay: EDS on the surface slab' : 'Surface slab (XRM)'}</span>
            {slab && <span>{formatUm(slab.width * voxelUm)} × {formatUm(slab.height * voxelUm)}</span>}
            <span style={{ flex: 1 }} />
            <span className="readout" data-testid="slab-readout">
              {hoverSlab ? `u ${hoverSlab.u}, v ${hoverSlab.v} · grey ${hoverSlab.rgb[0]}` : ''}
            </span>
          </div>
          {slab && slabPx ? (
            <div className="stage-wrap">
              <ImageStage
                url={slabUrl} {...slabPx} testId="corr-slab" className="corr-canvas" side="slab" onHover={setHoverSlab}
                markers={markers('slab')}
                overlay={view === 'overlay' && overlayUrl ? { url: overlayUrl, mode, alpha, swipe, tile } : null}
                onPick={(pt) => dispatch({ type: 'click', side: 'slab', pt })}
                onMarkerDragStart={() => dispatch({ type: 'dragStart' })} onMarkerMove={onMove('slab')}
                onSwipe={setSwipe}
                caption={<>{slab.width} × {slab.height} px · {fmt(voxelUm, 2)} µm/voxel</>}
              />
              {view === 'overlay' && reg && (
                <div className="overlay-controls" data-testid="overlay-controls">
                  <div className="seg" role="group" aria-label="Overlay mode">
                    {OVERLAY_MODES.map((m) => (
                      <button key={m} className={mode === m ? 'on' : ''} onClick={() => setMode(m)} data-testid={`overlay-mode-${m}`}>{OVERLAY_LABEL[m]}</button>
                    ))}
                  </div>
                  {mode === 'blend' && (
                    <label className="inline">EDS <input type="range" min={0} max={100} value={Math.round(alpha * 100)} onChange={(e) => setAlpha(Number(e.target.value) / 100)} data-testid="overlay-alpha" /> <span className="num">{Math.round(alpha * 100)} %</span></label>
                  )}
                  {mode === 'swipe' && (
                    <label className="inline">Divider <input type="range" min={0} max={100} value={Math.round(swipe * 100)} onChange={(e) => setSwipe(Number(e.target.value) / 100)} data-testid="overlay-swipe" /></label>
                  )}
                  {mode === 'checkerboard' && (
                    <label className="inline">Tile <input type="range" min={2} max={64} value={tile} onChange={(e) => setTile(Number(e.target.value))} data-testid="overlay-tile" /> <span className="num">{tile} px</span></label>
                  )}
                  {mode === 'outlines' && <span className="muted">EDS grain boundaries (yellow) on the XRM slab</span>}
                </div>
              )}
            </div>
          ) : (
            <div className="panel-canvas corr-canvas">
              <div className="loading" data-testid="slab-placeholder">{slabPending ? 'Finding the surface…' : 'No slab yet'}</div>
            </div>
          )}
        </div>

        <div className="corr-side">
          <div className="card">
            <h3>Landmarks</h3>
            <p className="small muted" data-testid="lm-hint">{hint}</p>
            {fitError && <div className="error small" data-testid="fit-error">{fitError}</div>}
            {rows.length > 0 && (
              <table className="data residuals" data-testid="residual-table">
                <thead>
                  <tr><th>#</th><th className="r">px</th><th className="r">µm</th></tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <tr key={r.n} className={r.high ? 'high' : undefined} data-testid="residual-row" title={r.high ? 'More than 2 px off: check this pair' : undefined}>
                      <td><span className="dot" style={{ background: pairColor(r.n - 1) }} />{r.n}</td>
                      <td className="r num">{fmt(r.px, 2)}</td>
                      <td className="r num">{fmt(r.um, 1)}</td>
                    </tr>
                  ))}
                </tbody>
                <tfoot>
                  <tr><td>RMS</td><td className="r num">{fmt(fit?.rms, 2)}</td><td className="r num">{fmt((fit?.rms ?? NaN) * voxelUm, 1)}</td></tr>
                </tfoot>
              </table>
            )}
            {fit?.mirrored && fit.key === key && <p className="small warn-text" data-testid="mirrored">The fit mirrors the map (it was imaged face down or flipped).</p>}
            {fitM.isPending && <p className="small muted">fitting…</p>}
          </div>
          <div className="card">
            <h3>Minerals → classes</h3>
            {face === 'bottom' && (
              <p className="small muted" data-testid="bottom-class-note">
                The bottom map&apos;s minerals take the classes chosen for the same minerals on the top face; others their default class. Change them on the top face.
              </p>
            )}
            <ClassMap state={state} busy={classMapM.isPending || newClassM.isPending || face === 'bottom'}
              onChange={(phaseId, classCode) => classMapM.mutate({ projectId, mapping: [{ phaseId, classCode }] })}
              onNewClass={(phaseId, name, color) => newClassM.mutate({ projectId, name, color }, { onSuccess: (c) => classMapM.mutate({ projectId, mapping: [{ phaseId, classCode: c.code }] }) })} />
          </div>
        </div>
      </div>
      <p className="small muted">
        Click: place a landmark · drag a marker: move it · wheel: zoom · drag: pan · double-click: fit · Ctrl+Z: undo · o: overlay mode
      </p>
    </div>
  );
}

/** The surface-slab job while it runs: progress, message and Cancel (it may wait for another job first). */
function SlabProgress({ job, onCancel }: { job: { id: string; state: string; progress: number; message: string | null; etaSeconds?: number | null } | null; onCancel: (id: string) => void }) {
  const pct = Math.round((job?.progress ?? 0) * 100);
  return (
    <div className="row" style={{ marginTop: '0.5rem', alignItems: 'center' }} data-testid="slab-pending">
      <span className="job-progress">
        <span className="muted">Finding the surface</span>
        <span className="progress"><span style={{ width: `${pct}%` }} /></span>
        <span className="num">{pct} %</span>
        {job?.etaSeconds != null && <span className="muted">ETA {formatEta(job.etaSeconds)}</span>}
        <span className="muted msg">{job?.state === 'queued' ? 'waiting for another job to finish' : (job?.message ?? 'starting…')}</span>
        {job && <button onClick={() => onCancel(job.id)} data-testid="slab-cancel">Cancel</button>}
      </span>
    </div>
  );
}

/** The EDS map against the slab, when the map is more than 3 times as wide (µm, the larger side of each). */
export function mapMuchWider(eds: { width: number; height: number; pixelSizeUm: number }, slab: { width: number; height: number }, voxelUm: number) {
  const mapUm = Math.max(eds.width, eds.height) * eds.pixelSizeUm;
  const slabUm = Math.max(slab.width, slab.height) * voxelUm;
  const ratio = mapUm / slabUm;
  return Number.isFinite(ratio) && ratio > 3 ? { mapUm, slabUm, ratio } : null;
}
