import { run } from './program.ts';

// `maas … | head` closes the pipe early: that is not an error
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

const code = await run(process.argv);
if (code !== 0) process.exitCode = code;
