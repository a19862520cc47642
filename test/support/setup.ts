import 'reflect-metadata';

// An unhandled rejection anywhere fails the run (ioredis's test hygiene): nothing may be lost silently.
process.on('unhandledRejection', (reason) => {
  throw new Error(`unhandled rejection: ${reason instanceof Error ? reason.stack : String(reason)}`);
});
