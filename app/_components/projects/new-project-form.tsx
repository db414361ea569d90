'use client';
/** Create a project (name + kind) and open it. */
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import { useTRPC } from '@/app/_trpc/client';

const KINDS = [
  { value: 'mineralogy', label: 'Mineralogy (minerals from EDS)' },
  { value: 'lithology', label: 'Lithology (rock types)' },
] as const;

export function NewProjectForm() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const router = useRouter();
  const [name, setName] = useState('');
  const [kind, setKind] = useState<(typeof KINDS)[number]['value']>('mineralogy');
  const create = useMutation(
    trpc.projects.create.mutationOptions({
      onSuccess: async (p) => {
        await qc.invalidateQueries({ queryKey: trpc.projects.list.queryKey() });
        router.push(`/projects/${p.id}`);
      },
    }),
  );

  return (
    <form
      className="form-inline"
      onSubmit={(e) => {
        e.preventDefault();
        if (name.trim()) create.mutate({ name: name.trim(), kind });
      }}
    >
      <label className="field">
        Name
        <input type="text" value={name} onChange={(e) => setName(e.target.value)} placeholder="e.g. Berea core 3, plug A"
          maxLength={120} style={{ width: 280 }} data-testid="new-project-name" />
      </label>
      <label className="field">
        Kind
        <select value={kind} onChange={(e) => setKind(e.target.value as typeof kind)} data-testid="new-project-kind">
          {KINDS.map((k) => <option key={k.value} value={k.value}>{k.label}</option>)}
        </select>
      </label>
      <button type="submit" className="primary" disabled={!name.trim() || create.isPending}>
        {create.isPending ? 'Creating…' : 'Create project'}
      </button>
      {create.error && <div className="error">Could not create the project: {create.error.message}</div>}
    </form>
  );
}
