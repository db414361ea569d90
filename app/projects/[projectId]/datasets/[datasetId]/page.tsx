import { DatasetView } from '@/app/_components/datasets/dataset-view';

export default async function DatasetPage({ params }: { params: Promise<{ projectId: string; datasetId: string }> }) {
  const { projectId, datasetId } = await params;
  return <DatasetView projectId={projectId} datasetId={datasetId} />;
}
