import type { ReactNode } from 'react';
import { Shell } from '@/app/_components/shell';
import { ProjectHeader } from '@/app/_components/projects/project-header';
import { StepNav } from '@/app/_components/projects/step-nav';

export default async function ProjectLayout({ children, params }: { children: ReactNode; params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return (
    <Shell>
      <ProjectHeader projectId={projectId} />
      <StepNav projectId={projectId} />
      {children}
    </Shell>
  );
}
