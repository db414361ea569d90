import { Shell } from '../_components/shell';
import { JobTable } from './_components/job-table';
import { isStateFilter } from './_components/job-links';

/** /jobs?project=<id>&state=<filter>: the filters live in the URL, so a project can link to its jobs. */
export default async function JobsPage({ searchParams }: { searchParams: Promise<Record<string, string | string[] | undefined>> }) {
  const q = await searchParams;
  const project = typeof q.project === 'string' ? q.project : '';
  const state = isStateFilter(q.state) ? q.state : '';
  return (
    <Shell>
      <div className="page-head">
        <h1>Jobs</h1>
        <span className="muted">Long-running work on the server, newest first.</span>
      </div>
      <div className="card">
        <JobTable initialProject={project} initialState={state} />
      </div>
    </Shell>
  );
}
