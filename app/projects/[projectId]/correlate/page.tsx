import { CorrelateStep } from '@/app/_components/correlate/correlate-step';
import { RegistrationModelPanel } from './_components/model-panel';

/** `?face=bottom`: the EDS map of the sample's bottom face (issue 15 §1); default the top face. */
export default async function CorrelatePage({ params, searchParams }: { params: Promise<{ projectId: string }>; searchParams: Promise<{ face?: string | string[] }> }) {
  const { projectId } = await params;
  const face = (await searchParams).face === 'bottom' ? 'bottom' : 'top';
  return (
    <>
      <CorrelateStep key={face} projectId={projectId} face={face} />
      <RegistrationModelPanel key={`model-${face}`} projectId={projectId} face={face} />
    </>
  );
}
