import { describeErrorHandlers } from '@plat/testkit';
import { EventStoreError } from '../src';
import { errorHandler as expressHandler } from '../src/express';
import { errorHandler as fastifyHandler } from '../src/fastify';
import { errorHandler as koaHandler } from '../src/koa';

describeErrorHandlers(
  '@plat/event-store',
  { express: expressHandler, fastify: fastifyHandler, koa: koaHandler },
  () => new EventStoreError('INVALID_OPTIONS', 'bad options'),
  500,
);
