import { MultiscaleStep } from './_components/multiscale-step';

export default async function MultiscalePage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return <MultiscaleStep projectId={projectId} />;
}
