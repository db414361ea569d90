import { TrainStep } from '@/app/_components/train/train-step';

export default async function TrainPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return <TrainStep projectId={projectId} />;
}
