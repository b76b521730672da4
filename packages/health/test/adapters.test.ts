import { describeErrorHandlers } from '@plat/testkit';
import { HealthError } from '../src';
import { errorHandler as expressHandler } from '../src/express';
import { errorHandler as fastifyHandler } from '../src/fastify';
import { errorHandler as koaHandler } from '../src/koa';

describeErrorHandlers(
  '@plat/health',
  { express: expressHandler, fastify: fastifyHandler, koa: koaHandler },
  () => new HealthError('INVALID_OPTIONS', 'bad options'),
  500,
);
