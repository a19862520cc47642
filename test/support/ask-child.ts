import type { ChildProcess } from 'node:child_process';

/**
 * Sends a load process `message` and resolves with its answer: a `report` to `stop`, a `count`
 * to anything else. Rejects at once with `exited` when the process is already gone.
 */
export function askChild(child: ChildProcess, exited: Error | undefined, message: { type: string }): Promise<any> {
  if (exited) return Promise.reject(exited);
  return new Promise((resolve) => {
    const onMessage = (reply: { type: string }) => {
      if (reply.type !== (message.type === 'stop' ? 'report' : 'count')) return;
      child.off('message', onMessage);
      resolve(reply);
    };
    child.on('message', onMessage);
    child.send(message);
  });
}
