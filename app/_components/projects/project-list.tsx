'use client';
/** Home page body: the projects table and the "New project" form. */
import Link from 'next/link';
import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '@/app/_trpc/client';
import { formatDate } from '../format';
import { NewProjectForm } from './new-project-form';

/** the project the server makes on first start (server/demo.ts) */
const DEMO = 'Demo sandstone';

export function ProjectList() {
  const trpc = useTRPC();
  const projects = useQuery(trpc.projects.list.queryOptions());

  return (
    <>
      <div className="card">
        <h2>Projects</h2>
        {projects.isPending && <p className="muted">Loading projects…</p>}
        {projects.error && <div className="error">Could not load the projects: {projects.error.message}</div>}
        {projects.data && projects.data.length === 0 && (
          <p className="muted">No projects yet. Create one below, then upload an XRM volume and its EDS map.</p>
        )}
        {projects.data?.some((p) => p.name === DEMO) && projects.data.length <= 5 && (
          <p className="small muted" data-testid="demo-hint">
            New to petromap? Open <strong>{DEMO}</strong>: a synthetic sandstone whose XRM volume and EDS map are already in, with its true
            3D mineral map beside it to check the results against; take its steps in order (Correlate, Train, Results). For a sample of your own, create a project below.
          </p>
        )}
        {projects.data && projects.data.length > 0 && (
          <table className="data" data-testid="project-table">
            <thead>
              <tr>
                <th>Name</th>
                <th>Kind</th>
                <th className="r">Datasets</th>
                <th>Created</th>
              </tr>
            </thead>
            <tbody>
              {projects.data.map((p) => (
                <tr key={p.id}>
                  <td><Link href={`/projects/${p.id}`}>{p.name}</Link></td>
                  <td>{p.kind}</td>
                  <td className="r num">{p.datasetCount}</td>
                  <td className="num">{formatDate(p.createdAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </div>
      <div className="card">
        <h2>New project</h2>
        <NewProjectForm />
      </div>
    </>
  );
}
