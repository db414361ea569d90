'use client';
/**
 * Step navigation of a project: Data → Correlate → Train → Results; a lithology project's order is
 * Data → Annotate → Multi-scale → Results, with Correlate and Train set apart after it, unnumbered,
 * for a sample that also has an EDS map (a new user met all six steps numbered in a row with no
 * hint of which order applies).
 */
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '@/app/_trpc/client';

export interface Step {
  slug: string;
  label: string;
  /** its place in the order; absent for a step set apart (optional) */
  n?: number;
  title?: string;
}

const EDS_ONLY = 'Only for a sample that also has an EDS map: register the map on Correlate, then train from its mineral labels on Train. Painted classes train on Annotate.';

/** The steps of a project of this kind, in the order to take them; optional ones last, with no number. */
export function stepsFor(kind: 'mineralogy' | 'lithology' | undefined): Step[] {
  if (kind === 'lithology') {
    return [
      { slug: '', label: 'Data', n: 1 },
      { slug: 'annotate', label: 'Annotate', n: 2 },
      { slug: 'multiscale', label: 'Multi-scale', n: 3 },
      { slug: 'results', label: 'Results', n: 4 },
      { slug: 'correlate', label: 'Correlate', title: EDS_ONLY },
      { slug: 'train', label: 'Train', title: EDS_ONLY },
    ];
  }
  return [
    { slug: '', label: 'Data', n: 1 },
    { slug: 'correlate', label: 'Correlate', n: 2 },
    { slug: 'train', label: 'Train', n: 3 },
    { slug: 'results', label: 'Results', n: 4 },
  ];
}

export function StepNav({ projectId }: { projectId: string }) {
  const path = usePathname();
  const base = `/projects/${projectId}`;
  const kind = useQuery(useTRPC().projects.byId.queryOptions({ id: projectId })).data?.kind;
  const steps = stepsFor(kind);
  const active = steps.find((s) => s.slug && path.startsWith(`${base}/${s.slug}`))?.slug ?? '';
  const firstOptional = steps.findIndex((s) => s.n === undefined);
  return (
    <nav className="steps" aria-label="Project steps">
      {steps.map((s, i) => (
        <Link key={s.label} href={s.slug ? `${base}/${s.slug}` : base} title={s.title}
          className={[active === s.slug ? 'active' : '', s.n === undefined ? 'optional' : '', i === firstOptional ? 'first-optional' : ''].filter(Boolean).join(' ') || undefined}
          aria-current={active === s.slug ? 'step' : undefined} data-testid={`step-${s.slug || 'data'}`}>
          {i === firstOptional && <small className="opt-label" data-testid="steps-optional">with an EDS map:</small>}
          {s.n !== undefined && <span className="n">{s.n}</span>}
          {s.label}
        </Link>
      ))}
    </nav>
  );
}
