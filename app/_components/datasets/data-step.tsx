'use client';
/** The Data step: upload an XRM volume and an EDS map, list the project's datasets, choose the volume in use. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { useTRPC } from '@/app/_trpc/client';
import { UploadZone } from '../upload/upload-zone';
import { DatasetTable } from './dataset-table';
import { toDatasetRow } from './to-dataset-row';
import { inUseNote, switchQuestion } from './in-use-note';
import { nextStep } from './next-step';

export function DataStep({ projectId }: { projectId: string }) {
  const trpc = useTRPC();
  const qc = useQueryClient();
  // an empty list keeps asking (every 3 s): a dataset imported meanwhile (another tab, a refresh
  // that raced the first load) shows up without a reload
  const datasets = useQuery({
    ...trpc.datasets.list.queryOptions({ projectId }),
    refetchInterval: (q) => (!q.state.data || q.state.data.length === 0 ? 3000 : false),
  });
  const kind = useQuery(trpc.projects.byId.queryOptions({ id: projectId })).data?.kind;
  const inUse = datasets.data ? inUseNote(datasets.data.map(toDatasetRow), kind) : [];
  const first = datasets.data ? nextStep(datasets.data.map(toDatasetRow), kind) : null;
  // with a volume and a map in: whether their registration is accepted (the Correlate page's own query, stored records only)
  const corr = useQuery({ ...trpc.correlate.state.queryOptions({ projectId, face: 'top' }), enabled: first?.step === 'correlate' });
  const accepted = !!corr.data?.faces.top?.accepted;
  // once accepted: whether a prediction exists (the Train page's own state query, which reads it), to point to Results then
  const train = useQuery({ ...trpc.train.state.queryOptions({ projectId }), enabled: first?.step === 'correlate' && accepted });
  const next = datasets.data && first?.step === 'correlate'
    ? nextStep(datasets.data.map(toDatasetRow), kind, { accepted, prediction: accepted ? (train.data?.prediction ?? null) : null })
    : first;
  const setFace = useMutation(trpc.datasets.setFace.mutationOptions({ onSuccess: () => refresh() }));
  const del = useMutation(trpc.datasets.delete.mutationOptions({ onSuccess: () => refresh() }));
  const useVolume = useMutation(trpc.datasets.useVolume.mutationOptions({ onSuccess: () => void qc.invalidateQueries() }));
  const [switchError, setSwitchError] = useState<string | null>(null);
  // ask first, with what the switch sets aside and brings back (or why it cannot happen now)
  const chooseVolume = async (id: string) => {
    if (useVolume.isPending) return;
    setSwitchError(null);
    try {
      const plan = await qc.fetchQuery({ ...trpc.datasets.volumeSwitch.queryOptions({ projectId, id }), staleTime: 0 });
      if (plan.blockedBy) return setSwitchError(`${plan.to.name} cannot be made the volume in use now: ${plan.blockedBy}`);
      if (window.confirm(switchQuestion(plan, kind))) useVolume.mutate({ projectId, id });
    } catch (e) {
      setSwitchError((e as Error).message);
    }
  };
  const refresh = () => {
    void qc.refetchQueries({ queryKey: trpc.datasets.list.queryKey({ projectId }) });
    void qc.invalidateQueries({ queryKey: trpc.projects.list.queryKey() });
  };

  return (
    <>
      <div className="card">
        <h2>Add data</h2>
        <div className="row">
          <UploadZone
            projectId={projectId} kind="volume" title="XRM volume" onUploaded={refresh}
            hint="Multi-page TIFF or OME-TIFF, NRRD, MHA, NIfTI (.nii/.nii.gz), Zeiss .txm; a .zip of TIFF, PNG or BMP slices (a SkyScan log gives their voxel size), of an .mhd with its .raw or of an OME-Zarr folder; 8/16-bit, signed or float"
            accept=".tif,.tiff,.nrrd,.mha,.nii,.gz,.txm,.zip"
          />
          <UploadZone
            projectId={projectId} kind="eds" title="EDS mineral map" onUploaded={refresh}
            hint="A .zip holding the map image (PNG or TIFF, not JPEG) + legend.csv (name,r,g,b or name,#rrggbb; Excel CSV or Unicode text) [+ bse.png, + a .json with pixelSizeUm], or a zipped TESCAN TIMA export (a project with several datasets: you pick one)"
            accept=".zip"
          />
          <UploadZone
            projectId={projectId} kind="eds" face="bottom" title="EDS map of the bottom face (optional)" onUploaded={refresh}
            hint="When the sample was mapped on both polished faces: the map of the bottom face (air below it, at the last slices). It is registered on its own on Correlate, and Train learns from both faces."
            accept=".zip"
          />
        </div>
      </div>
      <div className="card">
        <h2>Datasets</h2>
        {datasets.isPending && <p className="muted">Loading datasets…</p>}
        {datasets.error && <div className="error">Could not load the datasets: {datasets.error.message}</div>}
        {datasets.data && datasets.data.length === 0 && (
          <p className="muted">No datasets yet. Upload the XRM volume of the sample and the EDS map of its polished top surface.</p>
        )}
        {inUse.map((t) => <p key={t} className="notice small" data-testid="in-use-note">{t}</p>)}
        {datasets.data && datasets.data.length > 0 && (
          <DatasetTable projectId={projectId} rows={datasets.data.map(toDatasetRow)} onUseAsBottom={(id) => setFace.mutate({ id, face: 'bottom' })} onUseVolume={(id) => void chooseVolume(id)} switching={useVolume.isPending} onDelete={(id) => del.mutate({ id })} />
        )}
        {setFace.error && <div className="error">Could not mark the map as the bottom face: {setFace.error.message}</div>}
        {del.error && <div className="error" role="alert">Could not delete the dataset: {del.error.message}</div>}
        {!!useVolume.data?.kept.length && (
          <p className="notice small" data-testid="use-volume-kept">
            Not brought back with {useVolume.data.to.name} (it would have replaced work in use, or petromap cannot read it; nothing was deleted): {useVolume.data.kept.join('; ')}.
          </p>
        )}
        {(switchError ?? useVolume.error) && <div className="error" role="alert" data-testid="use-volume-error">{switchError ?? `Could not switch the volume: ${useVolume.error!.message}`}</div>}
        {next && (
          <p className="notice small next-step" data-testid="next-step">
            {next.text}
            {next.step && <> <Link href={`/projects/${projectId}/${next.step}`}><strong>{next.link}</strong></Link></>}
          </p>
        )}
      </div>
    </>
  );
}
