import { Shell } from './_components/shell';
import { ProjectList } from './_components/projects/project-list';

export default function HomePage() {
  return (
    <Shell>
      <div className="page-head">
        <h1>Projects</h1>
        <span className="muted">One project per sample: its XRM volume(s), EDS map(s), registration, model and results.</span>
      </div>
      <ProjectList />
    </Shell>
  );
}
