'use client';
/**
 * The face selector of the Correlate page (issue 15 §1): a sample is often mapped on its top and
 * its bottom polished face. Each face's map is registered, shown and accepted on its own; the
 * selector says which faces have a map and which registrations are accepted (Train learns from
 * every accepted face). The face is part of the page's address (?face=bottom).
 */
import Link from 'next/link';
import { useRouter } from 'next/navigation';

export type Face = 'top' | 'bottom';

interface FaceInfo {
  name: string;
  accepted: boolean;
}

export function FaceSelector({ projectId, face, faces }: { projectId: string; face: Face; faces: { top: FaceInfo | null; bottom: FaceInfo | null } }) {
  const router = useRouter();
  const href = (f: Face) => `/projects/${encodeURIComponent(projectId)}/correlate${f === 'bottom' ? '?face=bottom' : ''}`;
  const label = (f: Face) => {
    const info = faces[f];
    if (!info) return f === 'bottom' ? 'no map (optional)' : 'no map';
    return `${info.name}${info.accepted ? ' · accepted' : ''}`;
  };
  return (
    <div className="seg face-selector" role="tablist" aria-label="Face of the sample" data-testid="face-selector" style={{ marginBottom: '0.6rem' }}>
      {(['top', 'bottom'] as const).map((f) => (
        <button key={f} type="button" onClick={() => face !== f && router.push(href(f))} role="tab" aria-selected={face === f} className={face === f ? 'on' : ''} data-testid={`face-${f}`}
          title={f === 'top' ? 'The polished top face (air above it, at the first slices)' : 'The polished bottom face (air below it, at the last slices), registered on the volume turned upside down'}>
          <strong>{f === 'top' ? 'Top face' : 'Bottom face'}</strong> <span className="small muted">{label(f)}</span>
        </button>
      ))}
    </div>
  );
}

/** The bottom face of a project without a map of it: what a second map is for, and where to add it. */
export function NoBottomMap({ projectId, faces }: { projectId: string; faces: { top: FaceInfo | null; bottom: FaceInfo | null } }) {
  return (
    <div className="correlate" data-testid="correlate">
      <FaceSelector projectId={projectId} face="bottom" faces={faces} />
      <div className="card" data-testid="correlate-missing">
        <h2>Correlate the bottom face</h2>
        <p>
          This project has no EDS map of the sample&apos;s bottom face. If the sample was mapped on both polished faces, add the second map on the
          Data step as <em>EDS map of the bottom face</em>: it is registered on its own here, and Train then learns from the labels of both faces.
        </p>
        <p><Link href={`/projects/${projectId}`}>Go to the Data step</Link> to upload it.</p>
      </div>
    </div>
  );
}
