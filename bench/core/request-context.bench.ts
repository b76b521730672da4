/**
 * What one request context costs a request: @plat/core beside a hand-rolled AsyncLocalStorage,
 * the approach a user would otherwise write, and a bare call as the floor.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { currentContext, runWithContext } from '@plat/core';
import { compareThroughput } from '../harness';

interface HandRolled {
  requestId: string;
  principal?: string;
}

export default async function run(): Promise<void> {
  const als = new AsyncLocalStorage<HandRolled>();
  const work = async (readId: () => string | undefined) => {
    await Promise.resolve();
    return readId();
  };

  await compareThroughput(
    'request context: open, await once, read the request id',
    [
      { name: 'no context (floor)', fn: () => work(() => 'fixed') },
      {
        name: 'hand-rolled AsyncLocalStorage',
        fn: () => als.run({ requestId: randomUUID() }, () => work(() => als.getStore()?.requestId)),
      },
      {
        name: '@plat/core runWithContext',
        fn: () => runWithContext({}, () => work(() => currentContext()?.requestId)),
      },
    ],
    {
      note: 'Each operation opens a context with a fresh UUID request id, awaits once and reads the id back.',
    },
  );
}
