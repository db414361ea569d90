/**
 * A download streamed to the browser: the export's bytes pulled as the client reads (a cancelled
 * download stops the export), named after the project first ("labels.nrrd" from several projects
 * could not be told apart), with the mark of a voxel size assumed at import for scripts that download.
 */
import type { ExportStream } from './pipeline/results-export';

export function downloadResponse(ex: ExportStream, projectName: string): Response {
  const it = ex.body;
  const body = new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      try {
        const r = await it.next();
        if (r.done) ctrl.close();
        else ctrl.enqueue(r.value);
      } catch (err) {
        ctrl.error(err);
      }
    },
    async cancel() {
      await it.return(undefined);
    },
  });
  const name = `${projectName.replace(/[^a-z0-9._-]+/gi, '_')}-${ex.filename}`;
  const headers: Record<string, string> = { 'Content-Type': ex.contentType, 'Content-Disposition': `attachment; filename="${name}"`, 'Cache-Control': 'no-store' };
  if (ex.length !== undefined) headers['Content-Length'] = String(ex.length);
  // a voxel size assumed at import: the file says so in its header; scripts that download can read it here too
  if (ex.spacingAssumed) headers['X-Petromap-Voxel-Size'] = 'assumed';
  return new Response(body, { headers });
}
