import { CorrelateStep } from '@/app/_components/correlate/correlate-step';
import { RegistrationModelPanel } from './_components/model-panel';

export default async function CorrelatePage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return (
    <>
      <CorrelateStep projectId={projectId} />
      <RegistrationModelPanel projectId={projectId} />
    </>
  );
}
