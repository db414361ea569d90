'use client';
/**
 * Drop zone + file picker for one kind of dataset (XRM volume or EDS map), with an upload
 * progress bar and the server's error message shown right under it. The server imports the file
 * as a job: once the bytes are up, the zone follows the job (jobs.byId) until it ends.
 */
import { useRef, useState } from 'react';
import { useTRPCClient } from '@/app/_trpc/client';
import { formatBytes } from '../format';
import { uploadFile, type UploadKind, type UploadProgress } from './upload-file';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Props {
  projectId: string;
  kind: UploadKind;
  title: string;
  hint: string;
  accept?: string;
  onUploaded: () => void;
}

type State =
  | { s: 'idle' }
  | { s: 'uploading'; file: string; p: UploadProgress }
  | { s: 'importing'; file: string; progress: number; message: string | null; queued: boolean }
  | { s: 'done'; file: string }
  | { s: 'error'; file: string; message: string };

export function UploadZone({ projectId, kind, title, hint, accept, onUploaded }: Props) {
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const [state, setState] = useState<State>({ s: 'idle' });
  const client = useTRPCClient();
  const busy = state.s === 'uploading' || state.s === 'importing';

  /** Follows the import job until it ends; throws its one-line error when it did not finish. */
  async function followJob(file: string, jobId: string) {
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
      if (j.state === 'done') return;
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
    setState({ s: 'uploading', file: file.name, p: { loaded: 0, total: file.size, phase: 'sending' } });
    try {
      const body = await uploadFile(projectId, kind, file, (p) => setState({ s: 'uploading', file: file.name, p }));
      const jobId = body && typeof body === 'object' ? (body as { jobId?: unknown }).jobId : undefined;
      if (typeof jobId === 'string') {
        setState({ s: 'importing', file: file.name, progress: 0, message: null, queued: true });
        await followJob(file.name, jobId);
      }
      setState({ s: 'done', file: file.name });
      onUploaded();
    } catch (e) {
      setState({ s: 'error', file: file.name, message: e instanceof Error ? e.message : String(e) });
    } finally {
      if (input.current) input.current.value = '';
    }
  }

  const pct = state.s === 'uploading' && state.p.total > 0 ? (100 * state.p.loaded) / state.p.total : 0;
  return (
    <div className="upload-box" data-testid={`upload-${kind}`}>
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
        <input ref={input} type="file" hidden accept={accept} data-testid={`file-${kind}`} onChange={(e) => void start(e.target.files)} />
      </div>
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
          <div className="small muted num" data-testid={`import-status-${kind}`}>
            {state.queued
              ? `${state.file}: uploaded, waiting for the job before it to finish…`
              : `${state.file}: importing on the server${state.message ? ` (${state.message})` : ''}… ${(100 * state.progress).toFixed(0)} %`}
          </div>
        </div>
      )}
      {state.s === 'done' && <div className="small" style={{ color: 'var(--ok)' }}>Imported {state.file}.</div>}
      {state.s === 'error' && (
        <div className="error" role="alert" data-testid={`upload-error-${kind}`}>
          <strong>{state.file}</strong> was not imported: {state.message}
        </div>
      )}
    </div>
  );
}
