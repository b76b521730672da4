import { createCache, createMemoryStore } from '../src';
import { describeConformance } from './conformance';

let counter = 0;
const store = createMemoryStore({ sweepIntervalMs: 50 });
afterAll(() => store.close());

describeConformance('@plat/cache-deps on the memory store', {
  store: () => store,
  namespace: () => `mem${++counter}`,
  create: (options) => createCache(options),
});
