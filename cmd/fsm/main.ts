#!/usr/bin/env node
// fsm: the operator CLI (mesh list, namespace add/remove/list, proxy get config, check probes); see pkg/cli.
import { runCli } from '../../pkg/cli/index.js';

// `fsm ... | head`: a closed pipe ends the output quietly instead of crashing on EPIPE.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await runCli(process.argv);
