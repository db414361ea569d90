/**
 * lib/cli/main.ts started as a script (npx tsx lib/cli/main.ts <command>) runs the command like
 * bin/petromap.mjs; before, it printed nothing and exited 0, a silent no-op for a user who tried it.
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('lib/cli/main.ts as a script', () => {
  it('prints the usage and exits with the command\'s code', () => {
    const ok = spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'info', '--help'], { encoding: 'utf8' });
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^usage: petromap info/);
    const bad = spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'bogus'], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toMatch(/unknown command "bogus"/);
  }, 60_000);
});
