'use client';
/** Project title line: name, kind, created; a readable message if the id is unknown. */
import Link from 'next/link';
import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '@/app/_trpc/client';
import { formatDate } from '../format';

export function ProjectHeader({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const project = useQuery(trpc.projects.byId.queryOptions({ id: projectId }));
  if (project.error) {
    return (
      <div className="error" style={{ marginBottom: '1rem' }}>
        Could not open project {projectId}: {project.error.message} <Link href="/">Back to projects</Link>
      </div>
    );
  }
  return (
    <div className="page-head">
      <span className="crumbs"><Link href="/">Projects</Link> /</span>
      <h1 data-testid="project-name">{project.data?.name ?? '…'}</h1>
      {project.data && (
        <span className="muted small">
          {project.data.kind} · created {formatDate(project.data.createdAt)}
        </span>
      )}
    </div>
  );
}
