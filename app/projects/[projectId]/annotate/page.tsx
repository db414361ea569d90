import { AnnotateLoader } from '@/app/_components/annotate/annotate-loader';

export default async function AnnotatePage({ params }: { params: Promise<{ projectId: string }> }) {
  const { projectId } = await params;
  return <AnnotateLoader projectId={projectId} />;
}
