#!/usr/bin/env node
// fsm: the operator CLI (mesh list, namespace add/remove/list, proxy get config, check probes); see pkg/cli.
import { runCli } from '../../pkg/cli/index.js';

process.exitCode = await runCli(process.argv);
