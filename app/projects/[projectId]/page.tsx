import { DataStep } from '@/app/_components/datasets/data-step';

export default async function ProjectDataPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return <DataStep projectId={projectId} />;
}
