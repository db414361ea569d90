import { ResultsStep } from '@/app/_components/results/results-step';

export default async function ResultsPage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return <ResultsStep projectId={projectId} />;
}
