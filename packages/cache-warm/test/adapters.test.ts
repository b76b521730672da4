import { describeErrorHandlers } from '@plat/testkit';
import { CacheWarmError } from '../src';
import { errorHandler as expressHandler } from '../src/express';
import { errorHandler as fastifyHandler } from '../src/fastify';
import { errorHandler as koaHandler } from '../src/koa';

describeErrorHandlers(
  '@plat/cache-warm',
  { express: expressHandler, fastify: fastifyHandler, koa: koaHandler },
  () => new CacheWarmError('INVALID_OPTIONS', 'bad options'),
  500,
);
