/**
 * Upload one file to the streaming upload route handler with XMLHttpRequest, because fetch()
 * still cannot report upload progress. The body is the raw file (no multipart), so the server
 * can stream it to disk.
 */
export type UploadKind = 'volume' | 'eds';

export interface UploadProgress {
  loaded: number;
  total: number;
  /** 'sending' while bytes go up, 'processing' once all are sent (the server answers with the import job's id) */
  phase: 'sending' | 'processing';
}

export class UploadError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
    this.name = 'UploadError';
  }
}

export function uploadFile(
  projectId: string,
  kind: UploadKind,
  file: File,
  onProgress: (p: UploadProgress) => void,
  signal?: AbortSignal,
  /** EDS maps: the face of the sample it shows (issue 15 §1); unset = top */
  face?: 'top' | 'bottom',
  /** volumes: the voxel size (z, y, x) µm the user gave, replacing the file's (none: the file's) */
  spacingUm?: readonly [number, number, number],
): Promise<unknown> {
  const qs = new URLSearchParams({ kind, name: file.name, ...(face ? { face } : {}), ...(spacingUm ? { spacing: spacingUm.join(',') } : {}) });
  const url = `/api/projects/${encodeURIComponent(projectId)}/upload?${qs}`;
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    xhr.upload.onprogress = (e) => {
      const total = e.lengthComputable ? e.total : file.size;
      onProgress({ loaded: e.loaded, total, phase: e.loaded >= total ? 'processing' : 'sending' });
    };
    xhr.upload.onload = () => onProgress({ loaded: file.size, total: file.size, phase: 'processing' });
    xhr.onload = () => {
      const body = parseBody(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new UploadError(errorMessage(body, xhr), xhr.status));
    };
    xhr.onerror = () => reject(new UploadError(`Upload of ${file.name} failed: the server could not be reached.`, 0));
    xhr.onabort = () => reject(new UploadError(`Upload of ${file.name} was cancelled.`, 0));
    signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(file);
  });
}

function parseBody(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The server's own words when it sent any ({ error } / { message } JSON or text). */
function errorMessage(body: unknown, xhr: XMLHttpRequest): string {
  if (body && typeof body === 'object') {
    const b = body as Record<string, unknown>;
    const e = b.error;
    if (typeof e === 'string') return e;
    if (e && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string') return (e as { message: string }).message;
    if (typeof b.message === 'string') return b.message;
  }
  if (typeof body === 'string' && body.trim() && body.length < 2000) return body.trim();
  return `Upload failed (HTTP ${xhr.status} ${xhr.statusText}).`;
}
