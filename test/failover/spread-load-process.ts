// A load generator in a process of its own, spread over several URLs: keeps `inFlight` requests
// open against each, and reports each URL's statuses when told to stop.
import { startLoad } from '../chaos/load';

const [inFlight, ...urls] = [Number(process.argv[2]), ...process.argv.slice(3)];
const loads = urls.map((url) => startLoad(url, inFlight));
// A test that failed before stopping the load must not leave it running (and keeping Jest alive).
process.on('disconnect', () => process.exit(1));

process.on('message', async (message: { type: 'count' } | { type: 'stop' }) => {
  if (message.type === 'count') {
    process.send!({ type: 'count', counts: loads.map((l) => l.latencies.length) });
    return;
  }
  await Promise.all(loads.map((l) => l.stop()));
  process.send!({ type: 'report', statuses: loads.map((l) => [...l.statuses]) }, () => process.exit(0));
});
