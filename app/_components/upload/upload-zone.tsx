'use client';
/**
 * Drop zone + file picker for one kind of dataset (XRM volume or EDS map), with an upload
 * progress bar and the server's error message shown right under it.
 */
import { useRef, useState } from 'react';
import { formatBytes } from '../format';
import { uploadFile, type UploadKind, type UploadProgress } from './upload-file';

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
  | { s: 'done'; file: string }
  | { s: 'error'; file: string; message: string };

export function UploadZone({ projectId, kind, title, hint, accept, onUploaded }: Props) {
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const [state, setState] = useState<State>({ s: 'idle' });
  const busy = state.s === 'uploading';

  async function start(files: FileList | null) {
    const file = files?.[0];
    if (!file || busy) return;
    setState({ s: 'uploading', file: file.name, p: { loaded: 0, total: file.size, phase: 'sending' } });
    try {
      await uploadFile(projectId, kind, file, (p) => setState({ s: 'uploading', file: file.name, p }));
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
      {state.s === 'done' && <div className="small" style={{ color: 'var(--ok)' }}>Imported {state.file}.</div>}
      {state.s === 'error' && (
        <div className="error" role="alert" data-testid={`upload-error-${kind}`}>
          <strong>{state.file}</strong> was not imported: {state.message}
        </div>
      )}
    </div>
  );
}
