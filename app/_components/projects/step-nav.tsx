'use client';
/** Step navigation of a project: Data → Correlate → Train → Results. */
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '@/app/_trpc/client';

const STEPS = [
  { slug: '', label: 'Data' },
  { slug: 'annotate', label: 'Annotate', only: 'lithology' },
  { slug: 'multiscale', label: 'Multi-scale', only: 'lithology' },
  { slug: 'correlate', label: 'Correlate' },
  { slug: 'train', label: 'Train' },
  { slug: 'results', label: 'Results' },
] as const;

export function StepNav({ projectId }: { projectId: string }) {
  const path = usePathname();
  const base = `/projects/${projectId}`;
  const kind = useQuery(useTRPC().projects.byId.queryOptions({ id: projectId })).data?.kind;
  const steps = STEPS.filter((s) => !('only' in s) || s.only === kind);
  const active = steps.find((s) => s.slug && path.startsWith(`${base}/${s.slug}`))?.slug ?? '';
  return (
    <nav className="steps" aria-label="Project steps">
      {steps.map((s, i) => (
        <Link key={s.label} href={s.slug ? `${base}/${s.slug}` : base} className={active === s.slug ? 'active' : undefined}
          aria-current={active === s.slug ? 'step' : undefined}>
          <span className="n">{i + 1}</span>
          {s.label}
        </Link>
      ))}
    </nav>
  );
}
