/**
 * Said beside Train before training when the labelled voxels hold fewer than two classes (a map
 * of other minerals than the class list's: the real TIMA export maps 53 % hematite, which a
 * sandstone's classes drop). Training would fail with "found only class 2"; this names the class
 * and says what to change.
 */
import Link from 'next/link';

export function OneClassWarning({ counts, projectId }: { counts: { code: number; name: string; voxels: number }[]; projectId: string }) {
  const labelled = counts.filter((c) => c.voxels > 0);
  if (labelled.length >= 2) return null;
  return (
    <p className="small warn-text" data-testid="one-class-labelled">
      {labelled.length === 1 ? <>Only <strong>{labelled[0]!.name}</strong> has labelled voxels: a classifier needs at least two classes.</> : <>No class has labelled voxels.</>}{' '}
      Give more of the map&apos;s minerals a class (Minerals → classes, left), or check the registration on <Link href={`/projects/${projectId}/correlate`}>Correlate</Link>.
    </p>
  );
}
