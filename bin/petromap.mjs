#!/usr/bin/env node
// petromap command line: runs lib/cli/main.ts through tsx (a dependency), so no build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../lib/cli/main.ts');
const code = await main(process.argv.slice(2));
process.exitCode = typeof code === 'number' ? code : (process.exitCode ?? 0);
