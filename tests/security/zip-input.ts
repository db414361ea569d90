/**
 * The security harness's 'zip' kind: runs the server's import of an uploaded zip (the function the
 * import job's worker runs, server/storage/datasets.ts importDatasetFiles) with `outDir` as the
 * workspace folder: the zip is unpacked under outDir/unzip-* and the dataset would land in
 * outDir/d<id>. Limits come from the environment, as in the server.
 */
import { basename, join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { importDatasetFiles } from '../../server/storage/datasets';

export async function importZipForTest(zipPath: string, outDir: string, kind: 'volume' | 'eds' = 'volume') {
  const tag = randomBytes(5).toString('hex');
  return importDatasetFiles({
    kind,
    name: basename(zipPath),
    file: zipPath,
    datasetDir: join(outDir, `d${tag}`),
    unpackDir: join(outDir, `unzip-${tag}`),
  });
}
