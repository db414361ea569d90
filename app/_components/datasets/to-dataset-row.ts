/** Map the server's dataset output onto the UI's DatasetRow (the one place that knows both). */
import type { RouterOutputs } from '../api-types';
import { guessLevelShapes } from '../viewer/volume-info';
import type { DatasetRow } from './dataset-row';

type Dataset = RouterOutputs['datasets']['byId'];

export function toDatasetRow(d: Dataset & { inUse?: boolean }): DatasetRow {
  const row: DatasetRow = { id: String(d.id), name: d.name, kind: d.kind, createdAt: d.createdAt, face: d.face, refused: d.refused, inUse: d.inUse };
  if (d.kind === 'volume' && d.meta) {
    row.volume = {
      datasetId: String(d.id), name: d.name, shape: d.meta.shape, spacing: d.meta.spacingUm, dtype: d.meta.dtype,
      channels: d.meta.channels, levelShapes: guessLevelShapes(d.meta.shape, d.levels ?? 1), spacingAssumed: d.spacingAssumed,
    };
  }
  if (d.kind === 'eds' && d.eds) row.eds = { datasetId: String(d.id), ...d.eds };
  if (d.status && d.status !== 'ready') row.problem = `Status: ${d.status}`;
  return row;
}
