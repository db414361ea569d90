import { Shell } from '../_components/shell';
import { WorkerTable } from '../_components/workers/worker-table';

export default function WorkersPage() {
  return (
    <Shell>
      <div className="page-head">
        <h1>Workers</h1>
        <span className="muted">Where whole-volume predictions run: this server, or the machines connected to the queue.</span>
      </div>
      <div className="card">
        <WorkerTable />
      </div>
    </Shell>
  );
}
