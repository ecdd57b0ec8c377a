#!/usr/bin/env node
// The `berth` command: runs the compiled CLI (npm ci builds it through `prepare`).
import { reexecForAgent } from '../dist/cli/agent-node-flags.js';

// `berth agent` runs with heap flags Node reads only at start (see src/cli/agent-node-flags.ts)
reexecForAgent(process.argv);
const { main } = await import('../dist/cli/main.js');

// `berth … | head` closes the pipe early: that is the reader's choice, not an error.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

process.exitCode = await main(process.argv);
