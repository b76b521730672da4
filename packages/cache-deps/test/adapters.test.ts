import { describeErrorHandlers } from '@plat/testkit';
import { CacheError } from '../src';
import { errorHandler as expressHandler } from '../src/express';
import { errorHandler as fastifyHandler } from '../src/fastify';
import { errorHandler as koaHandler } from '../src/koa';

describeErrorHandlers(
  '@plat/cache-deps',
  { express: expressHandler, fastify: fastifyHandler, koa: koaHandler },
  () => new CacheError('INVALID_OPTIONS', 'bad options'),
  500,
);
