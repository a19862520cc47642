import { memoryHarness } from '../support/store-harness';
import { describeStoreContract } from './limiter-store.contract';

describeStoreContract('MemoryStore (FakeClock)', memoryHarness, { expiringRecords: false, decidesOneNow: true });
