'use client';
/**
 * Drop zone + file picker for one kind of dataset (XRM volume or EDS map), with an upload
 * progress bar and the server's error message shown right under it. The server imports the file
 * as a job: once the bytes are up, the zone follows the job (jobs.byId) until it ends. A zipped
 * TESCAN TIMA project holding several datasets ends that job with the list (`result.pick`): a
 * dialog lets the user pick one, whose import is a second job (datasets.importTimaDataset).
 */
import { useRef, useState, type CSSProperties } from 'react';
import { useTRPCClient } from '@/app/_trpc/client';
import { formatBytes, formatUm } from '../format';
import { uploadFile, type UploadKind, type UploadProgress } from './upload-file';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Props {
  projectId: string;
  kind: UploadKind;
  title: string;
  hint: string;
  accept?: string;
  onUploaded: () => void;
  /** EDS maps: the polished face of the sample the map shows (issue 15 §1); its test ids end in -bottom */
  face?: 'top' | 'bottom';
}

interface TimaChoice {
  id: string;
  label: string;
  sampleName?: string;
  survey?: string;
  jobName?: string;
  startDate?: string;
  fields: number;
  fieldWidthPx: number;
  fieldHeightPx: number;
  pixelSizeUm: number;
}

type State =
  | { s: 'idle' }
  | { s: 'pick'; file: string; jobId: string; datasets: TimaChoice[]; choice: string | null; busy: boolean; error: string | null }
  | { s: 'uploading'; file: string; p: UploadProgress }
  | { s: 'importing'; file: string; progress: number; message: string | null; queued: boolean }
  | { s: 'done'; file: string }
  | { s: 'error'; file: string; message: string };

export function UploadZone({ projectId, kind, title, hint, accept, onUploaded, face }: Props) {
  const tid = face === 'bottom' ? `${kind}-bottom` : kind;
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const [state, setState] = useState<State>({ s: 'idle' });
  const client = useTRPCClient();
  const busy = state.s === 'uploading' || state.s === 'importing' || state.s === 'pick';
  // volumes: a voxel size the file lacks (a plain TIFF stack, PNG slices without their log)
  const [voxelText, setVoxelText] = useState('');
  const voxel = parseVoxelSize(voxelText);

  /** Follows the import job until it ends (returning its result); throws its one-line error when it did not finish. */
  async function followJob(file: string, jobId: string): Promise<unknown> {
    for (let misses = 0; ; ) {
      let j;
      try {
        j = await client.jobs.byId.query({ id: jobId });
        misses = 0;
      } catch (e) {
        if (++misses > 20) throw e;
        await sleep(1000);
        continue;
      }
      if (j.state === 'done') return j.result;
      if (j.state === 'failed') throw new Error(j.error ?? 'the import failed.');
      if (j.state === 'cancelled') throw new Error('the import was cancelled.');
      if (j.state === 'interrupted') throw new Error('the import was interrupted (the server restarted); upload the file again.');
      setState({ s: 'importing', file, progress: j.progress, message: j.message, queued: j.state === 'queued' });
      await sleep(500);
    }
  }

  async function start(files: FileList | null) {
    const file = files?.[0];
    if (!file || busy) return;
    if (voxel === 'bad') {
      setState({ s: 'error', file: file.name, message: `the voxel size “${voxelText}” is not a size in µm: give one number (e.g. 2.5) or three as z,y,x (e.g. 5,2.5,2.5), or leave it empty to take the file's.` });
      if (input.current) input.current.value = '';
      return;
    }
    setState({ s: 'uploading', file: file.name, p: { loaded: 0, total: file.size, phase: 'sending' } });
    try {
      const body = await uploadFile(projectId, kind, file, (p) => setState({ s: 'uploading', file: file.name, p }), undefined, face, voxel ?? undefined);
      const jobId = body && typeof body === 'object' ? (body as { jobId?: unknown }).jobId : undefined;
      if (typeof jobId === 'string') {
        setState({ s: 'importing', file: file.name, progress: 0, message: null, queued: true });
        const result = await followJob(file.name, jobId);
        const pick = (result as { pick?: { datasets?: TimaChoice[] } } | null)?.pick;
        if (pick?.datasets?.length) {
          setState({ s: 'pick', file: file.name, jobId, datasets: pick.datasets, choice: null, busy: false, error: null });
          return;
        }
      }
      setState({ s: 'done', file: file.name });
      onUploaded();
    } catch (e) {
      setState({ s: 'error', file: file.name, message: e instanceof Error ? e.message : String(e) });
    } finally {
      if (input.current) input.current.value = '';
    }
  }

  /** Imports the chosen TIMA dataset of a project upload (a second import job). */
  async function importChoice(p: Extract<State, { s: 'pick' }>) {
    if (!p.choice) return;
    setState({ ...p, busy: true, error: null });
    let label = p.file;
    try {
      const r = await client.datasets.importTimaDataset.mutate({ projectId, jobId: p.jobId, dataset: p.choice });
      label = `${r.label} (${p.file})`;
      setState({ s: 'importing', file: label, progress: 0, message: null, queued: true });
      await followJob(label, r.jobId);
      setState({ s: 'done', file: label });
      onUploaded();
    } catch (e) {
      setState({ s: 'error', file: label, message: e instanceof Error ? e.message : String(e) });
    }
  }

  async function cancelChoice(p: Extract<State, { s: 'pick' }>) {
    setState({ s: 'idle' });
    await client.datasets.discardTimaUpload.mutate({ projectId, jobId: p.jobId }).catch(() => undefined);
  }

  const pct = state.s === 'uploading' && state.p.total > 0 ? (100 * state.p.loaded) / state.p.total : 0;
  return (
    <div className="upload-box" data-testid={`upload-${tid}`}>
      <h3>{title}</h3>
      <div
        className={`dropzone${over ? ' over' : ''}`}
        role="button" tabIndex={0} aria-disabled={busy}
        onClick={() => !busy && input.current?.click()}
        onKeyDown={(e) => (e.key === 'Enter' || e.key === ' ') && !busy && input.current?.click()}
        onDragOver={(e) => { e.preventDefault(); setOver(true); }}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => { e.preventDefault(); setOver(false); void start(e.dataTransfer.files); }}
      >
        <div><strong>Drop a file here</strong> or click to choose</div>
        <div className="small">{hint}</div>
        <input ref={input} type="file" hidden accept={accept} data-testid={`file-${tid}`} onChange={(e) => void start(e.target.files)} />
      </div>
      {kind === 'volume' && (
        <label className="small voxel-size">
          Voxel size <input type="text" inputMode="decimal" value={voxelText} placeholder="from the file" disabled={busy} data-testid="voxel-size"
            onChange={(e) => setVoxelText(e.target.value)} aria-invalid={voxel === 'bad'} style={{ width: '8em' }} /> µm{' '}
          <span className="muted">(one number, or z,y,x; only when the file gives none or a wrong one: it replaces the file&apos;s)</span>
        </label>
      )}
      {state.s === 'uploading' && (
        <div>
          <div className="progress" aria-label="Upload progress"><div style={{ width: `${pct}%` }} /></div>
          <div className="small muted num">
            {state.p.phase === 'sending'
              ? `${state.file}: ${formatBytes(state.p.loaded)} of ${formatBytes(state.p.total)} (${pct.toFixed(0)} %)`
              : `${state.file}: uploaded, importing on the server…`}
          </div>
        </div>
      )}
      {state.s === 'importing' && (
        <div>
          <div className="progress" aria-label="Import progress"><div style={{ width: `${100 * state.progress}%` }} /></div>
          <div className="small muted num" data-testid={`import-status-${tid}`}>
            {state.queued
              ? `${state.file}: uploaded, waiting for the job before it to finish…`
              : `${state.file}: ${importStep(state.message, state.file)}… ${(100 * state.progress).toFixed(0)} %`}
          </div>
        </div>
      )}
      {state.s === 'pick' && <TimaPicker state={state} onChoose={(id) => setState({ ...state, choice: id })} onImport={() => void importChoice(state)} onCancel={() => void cancelChoice(state)} />}
      {state.s === 'done' && <div className="small" style={{ color: 'var(--ok)' }}>Imported {state.file}.</div>}
      {state.s === 'error' && (
        <div className="error" role="alert" data-testid={`upload-error-${tid}`}>
          <strong>{state.file}</strong> was not imported: {withoutFileName(state.message, state.file)}
        </div>
      )}
    </div>
  );
}

/** The import job's step without repeating the file name ("importing slices.zip" after "slices.zip:" read twice). */
export function importStep(message: string | null, file: string): string {
  if (!message) return 'importing on the server';
  const m = message.replace(` ${file}`, '').trim();
  return m || 'importing on the server';
}

/**
 * The server's message without the file's name in front ("x.zip: EDS map …"): the line already
 * starts with it ("x.zip was not imported: x.zip: EDS map …" read as two files).
 */
export function withoutFileName(message: string, file: string): string {
  const prefix = `${file}: `;
  return message.startsWith(prefix) && message.length > prefix.length ? message.slice(prefix.length) : message;
}

/** The voxel size box: empty = the file's; one number = isotropic; three = z,y,x (µm); 'bad' otherwise. */
export function parseVoxelSize(text: string): [number, number, number] | null | 'bad' {
  const t = text.trim();
  if (!t) return null;
  const v = t.split(/\s*[,;x×]\s*|\s+/).map((p) => Number(p.replace(/µm$/i, '')));
  if (!(v.length === 1 || v.length === 3) || !v.every((n) => Number.isFinite(n) && n > 0 && n < 1e5)) return 'bad';
  return v.length === 1 ? [v[0]!, v[0]!, v[0]!] : [v[0]!, v[1]!, v[2]!];
}

const BACKDROP: CSSProperties = { position: 'fixed', inset: 0, background: 'rgba(20, 24, 30, 0.45)', display: 'flex', alignItems: 'center', justifyContent: 'center', zIndex: 50 };
const DIALOG: CSSProperties = { maxWidth: 'min(920px, 94vw)', maxHeight: '86vh', overflow: 'auto', boxShadow: '0 12px 40px rgba(0, 0, 0, 0.35)' };

/** The dialog that lists the datasets of an uploaded TIMA project. */
function TimaPicker({ state, onChoose, onImport, onCancel }: { state: Extract<State, { s: 'pick' }>; onChoose: (id: string) => void; onImport: () => void; onCancel: () => void }) {
  return (
    <div data-testid="tima-picker-backdrop" style={BACKDROP}>
      <div className="card" role="dialog" aria-modal="true" aria-labelledby="tima-picker-title" data-testid="tima-picker" style={DIALOG}>
        <h3 id="tima-picker-title">{state.file} holds {state.datasets.length} TIMA datasets</h3>
        <p className="small muted">Choose the one to import. Sample names come from the TIMA project files; the id is the dataset&apos;s folder.</p>
        <table className="data">
          <thead>
            <tr><th /><th>Sample</th><th>Job</th><th>Fields</th><th>Pixel</th><th>Measured</th><th>Id</th></tr>
          </thead>
          <tbody>
            {state.datasets.map((d) => (
              <tr key={d.id} onClick={() => onChoose(d.id)} style={{ cursor: 'pointer' }}>
                <td>
                  <input type="radio" name="tima-dataset" value={d.id} checked={state.choice === d.id} onChange={() => onChoose(d.id)} aria-label={d.label} data-testid={`tima-choice-${d.id}`} />
                </td>
                <td><strong>{d.label}</strong>{d.survey && <div className="small muted">{d.survey}</div>}</td>
                <td className="small">{d.jobName ?? '–'}</td>
                <td className="num">{d.fields} × {d.fieldWidthPx} × {d.fieldHeightPx} px</td>
                <td className="num">{formatUm(d.pixelSizeUm)}</td>
                <td className="num small">{d.startDate ? d.startDate.slice(0, 10) : '–'}</td>
                <td><code className="small">{d.id.length > 13 ? `${d.id.slice(0, 8)}…` : d.id}</code></td>
              </tr>
            ))}
          </tbody>
        </table>
        {state.error && <div className="error" role="alert">{state.error}</div>}
        <div className="row" style={{ justifyContent: 'flex-end', gap: '0.5rem', marginTop: '0.8rem' }}>
          <button type="button" onClick={onCancel} disabled={state.busy}>Cancel</button>
          <button type="button" className="primary" onClick={onImport} disabled={!state.choice || state.busy} data-testid="tima-import">Import</button>
        </div>
      </div>
    </div>
  );
}
