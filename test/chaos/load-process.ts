// A load generator in a process of its own (the server under test keeps its event loop to itself):
// keeps `inFlight` requests open against a URL, and reports statuses and latencies when told to stop.
import { startLoad } from './load';

const [url, inFlight] = [process.argv[2], Number(process.argv[3])];
const load = startLoad(url, inFlight);
// A test that failed before stopping the load must not leave it running (and keeping Jest alive).
process.on('disconnect', () => process.exit(1));

process.on('message', async (message: { type: 'count' } | { type: 'stop' }) => {
  if (message.type === 'count') {
    process.send!({ type: 'count', count: load.latencies.length });
    return;
  }
  await load.stop();
  process.send!({ type: 'report', statuses: [...load.statuses], latencies: load.latencies }, () => process.exit(0));
});
