'use client';
/**
 * The face selector of the Correlate page (issue 15 §1): a sample is often mapped on its top and
 * its bottom polished face. Each face's map is registered, shown and accepted on its own; the
 * selector says which faces have a map and which registrations are accepted (Train learns from
 * every accepted face). The face is part of the page's address (?face=bottom).
 */
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
