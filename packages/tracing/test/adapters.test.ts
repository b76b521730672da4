import { describeErrorHandlers } from '@plat/testkit';
import { TracingError } from '../src';
import { errorHandler as expressHandler } from '../src/express';
import { errorHandler as fastifyHandler } from '../src/fastify';
import { errorHandler as koaHandler } from '../src/koa';

describeErrorHandlers(
  '@plat/tracing',
  { express: expressHandler, fastify: fastifyHandler, koa: koaHandler },
  () => new TracingError('INVALID_OPTIONS', 'bad options'),
  500,
);
