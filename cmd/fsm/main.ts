#!/usr/bin/env node
// fsm: the operator CLI (mesh list, namespace add/remove/list, proxy get config, check probes); see pkg/cli.
// First: exits 2 on a Node.js older than the binaries need, before any dependency loads.
import '../../pkg/nodeversion/index.js';
import { runCli } from '../../pkg/cli/index.js';

// `fsm ... | head`: a closed pipe ends the output quietly instead of crashing on EPIPE.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

process.exitCode = await runCli(process.argv);
