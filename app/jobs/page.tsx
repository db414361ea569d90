import { Shell } from '../_components/shell';
import { JobTable } from '../_components/jobs/job-table';

export default function JobsPage() {
  return (
    <Shell>
      <div className="page-head">
        <h1>Jobs</h1>
        <span className="muted">Long-running work on the server, newest first.</span>
      </div>
      <div className="card">
        <JobTable />
      </div>
    </Shell>
  );
}
