/**
 * The UI's view of a dataset, mapped once from the tRPC output (`toDatasetRow`) so components
 * do not depend on how the server spells its fields.
 */
import type { EdsInfo } from '../eds/eds-view';
import type { VolumeInfo } from '../viewer/volume-info';

export interface DatasetRow {
  id: string;
  name: string;
  kind: 'volume' | 'eds';
  /** EDS maps: the polished face of the sample it shows (issue 15 §1) */
  face?: 'top' | 'bottom' | null;
  /** an EDS map refused as the bottom face (why): not the project's bottom map */
  refused?: string | null;
  createdAt: Date | string | null;
  /** the project's steps use it (its volume, its top or bottom face's map); the Data step names it when there are several */
  inUse?: boolean;
  /** set when the dataset is not usable (failed import, still importing) */
  problem?: string | null;
  volume?: VolumeInfo;
  eds?: EdsInfo;
}
