'use client';
/** The Annotate step is canvas-heavy and measures the window: client-side only. */
import dynamic from 'next/dynamic';

const AnnotateStep = dynamic(() => import('./annotate-step').then((m) => m.AnnotateStep), {
  ssr: false,
  loading: () => <p className="muted">Loading the paint tools…</p>,
});

export function AnnotateLoader({ projectId }: { projectId: string }) {
  return <AnnotateStep projectId={projectId} />;
}
