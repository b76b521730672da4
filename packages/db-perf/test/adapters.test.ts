import { describeErrorHandlers } from '@plat/testkit';
import { DbPerfError } from '../src';
import { errorHandler as expressHandler } from '../src/express';
import { errorHandler as fastifyHandler } from '../src/fastify';
import { errorHandler as koaHandler } from '../src/koa';

describeErrorHandlers(
  '@plat/db-perf',
  { express: expressHandler, fastify: fastifyHandler, koa: koaHandler },
  () => new DbPerfError('INVALID_OPTIONS', 'bad options'),
  500,
);
