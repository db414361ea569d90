/**
 * Said beside Train before training when a class has fewer labelled voxels than the model can learn
 * it from (lib/cli/thin-classes: train and run print this; the web page said nothing). A class with
 * no labelled voxel at all is never predicted: on N5's own rock the pores, exported as "Background"
 * (unclassified), got 0 labels, and 20 % of the rock came out as quartz and clay (true 3D mean IoU
 * 0.41 with the pores, against 0.56 with them named "Resin") while the estimate read 0.59.
 */
import { MIN_CLASS_VOXELS } from '@/lib/cli/thin-classes';

export function thinClasses(counts: { code: number; voxels: number }[], classes: { code: number; name: string }[]): { name: string; voxels: number }[] {
  const n = new Map(counts.map((c) => [c.code, c.voxels]));
  return classes.map((c) => ({ name: c.name, voxels: n.get(c.code) ?? 0 })).filter((c) => c.voxels < MIN_CLASS_VOXELS);
}

export function ThinClassesWarning({ counts, classes }: { counts: { code: number; voxels: number }[]; classes: { code: number; name: string }[] }) {
  // fewer than two labelled classes: OneClassWarning says so (training cannot start)
  if (counts.filter((c) => c.voxels > 0).length < 2) return null;
  const thin = thinClasses(counts, classes);
  if (!thin.length) return null;
  const none = thin.filter((c) => c.voxels === 0);
  const few = thin.filter((c) => c.voxels > 0);
  return (
    <p className="small warn-text" data-testid="thin-classes">
      {none.length > 0 && (
        <>
          {none.map((c) => c.name).join(', ')}: no labelled voxel, so the model will not predict {none.length === 1 ? 'it' : 'them'} anywhere in
          the volume. No mineral of the map has {none.length === 1 ? 'this class' : 'these classes'}, or {none.length === 1 ? 'its' : 'their'} pixels
          are unclassified (resin-filled pores exported under another name than “Background”, “Resin” or “Epoxy”: name that colour e.g. “Pores” in the legend, or map it to this class on Correlate).{' '}
        </>
      )}
      {few.length > 0 && (
        <>
          {few.map((c) => `${c.name} (${c.voxels.toLocaleString('en')} labelled voxel${c.voxels === 1 ? '' : 's'})`).join(', ')}: fewer
          than {MIN_CLASS_VOXELS}, so {few.length === 1 ? 'its' : 'their'} 3D map and share are not to be trusted (on test rocks pyrite with 4
          labelled voxels was found almost nowhere; with 6, IoU 0.53). A larger map or a map of the bottom face gives more.
        </>
      )}
    </p>
  );
}
